// Verifies one Open Badges 3.0 credential offline with
// @digitalcredentials/verifier-core (pinned in package-lock.json).
//
//   node dcc-verify.mjs CREDENTIAL.json [STATUS_LIST_URL=FILE ...]
//
// Prints one line and exits with its code:
//   valid                  0  the proof verifies, the credential is in its
//                             validity period and, when it has a status, the
//                             status list does not mark it
//   invalid: REASON        1  verifier-core rejected the proof or the content
//   error: REASON          2  bad arguments, a crash, or a blocked fetch, so
//                             no verdict about the credential was reached
//   revoked: REASON        3  everything verifies, but the status list marks
//                             the credential as revoked
//
// The run makes no network request. verifier-core resolves JSON-LD contexts
// from its own bundled copies and did:key identifiers locally. Every other
// request goes through the global fetch, which this runner replaces: it
// returns the status list credentials given on the command line and the
// contexts bundled in shared/src/ob3/contexts/, and blocks everything else.
// A blocked fetch makes the outcome "error", because the verdict would then
// rest on a document that was not checked. The one exception is the Open
// Badges JSON Schema that verifier-core's informational schema check
// downloads: that fetch is blocked too, and the outcome line notes that
// the schema check did not run.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { syncBuiltinESMExports } from 'node:module';

const EXIT = { valid: 0, invalid: 1, error: 2, revoked: 3 };

// Contexts of issued credentials and status lists, served from the copies
// that the Rust code signs with. verifier-core 1.0.0-beta.11 bundles its own
// copies of these, so it requests them only if a later version drops one.
const CONTEXT_FILES = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob-v3p0-context-3.0.3.json',
  'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
};
const CONTEXT_DIR = new URL('../../shared/src/ob3/contexts/', import.meta.url);

// verifier-core 1.0.0-beta.11 (schemaCheck.js) validates Open Badges
// credentials against JSON Schemas at these addresses.
const SCHEMA_PREFIX = 'https://purl.imsglobal.org/spec/ob/v3p0/schema/';

function finish(outcome, reason = '', note = '') {
  let line = reason ? `${outcome}: ${reason}` : outcome;
  if (note) {
    line += ` (${note})`;
  }
  process.stdout.write(`${line.replace(/\s+/g, ' ')}\n`);
  process.exit(EXIT[outcome]);
}

function parseArguments(argv) {
  if (argv.length === 0 || argv[0].startsWith('-')) {
    process.stderr.write('usage: node dcc-verify.mjs CREDENTIAL.json [STATUS_LIST_URL=FILE ...]\n');
    finish('error', 'missing the credential file argument');
  }
  const [credentialPath, ...mappings] = argv;
  const statusLists = new Map();
  for (const mapping of mappings) {
    const separator = mapping.indexOf('=');
    if (separator <= 0) {
      finish('error', `status list mapping '${mapping}' is not of the form URL=FILE`);
    }
    statusLists.set(mapping.slice(0, separator), mapping.slice(separator + 1));
  }
  return { credentialPath, statusLists };
}

function readJson(path, what) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    finish('error', `cannot read the ${what} ${path}: ${error.message}`);
  }
}

function jsonResponse(text) {
  return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
}

// Replaces fetch and blocks every TCP connection, so that nothing in
// verifier-core or its dependencies can reach the network. Returns the list
// that collects the blocked URLs.
function installNetworkGuard(statusLists) {
  const blocked = [];
  globalThis.fetch = async (request) => {
    const url = typeof request === 'string' ? request : (request.url ?? String(request));
    if (statusLists.has(url)) {
      return jsonResponse(JSON.stringify(readJson(statusLists.get(url), 'status list')));
    }
    if (Object.hasOwn(CONTEXT_FILES, url)) {
      return jsonResponse(readFileSync(new URL(CONTEXT_FILES[url], CONTEXT_DIR), 'utf8'));
    }
    blocked.push(url);
    throw new TypeError(`offline run: blocked the fetch of ${url}`);
  };
  net.Socket.prototype.connect = function blockConnection(...args) {
    const target = typeof args[0] === 'object' ? JSON.stringify(args[0]) : String(args[0]);
    blocked.push(`tcp:${target}`);
    process.nextTick(() => this.destroy(new Error(`offline run: blocked a TCP connection to ${target}`)));
    return this;
  };
  syncBuiltinESMExports();
  return blocked;
}

// Turns verifier-core's result into one outcome and reason.
function classify(result, credential, blocked) {
  const needed = [...new Set(blocked)].filter((url) => !url.startsWith(SCHEMA_PREFIX));
  if (needed.length > 0) {
    const statusUrls = [].concat(credential.credentialStatus ?? []).map((entry) => entry.statusListCredential);
    const hint = needed.every((url) => statusUrls.includes(url)) ? '; give the status list as URL=FILE' : '';
    return ['error', `blocked the fetch of ${needed.join(', ')}${hint}`];
  }

  const errors = result.errors ?? [];
  if (errors.length > 0) {
    const [first] = errors;
    const reason = `${first.name}: ${first.message}`;
    // unknown_error is verifier-core's catch-all for an exception inside
    // vc.verifyCredential; the HTTP errors mean a key could not be fetched.
    const crashed = ['unknown_error', 'http_error_with_signature_check', 'did_web_unresolved'];
    if (crashed.includes(first.name)) {
      const cause = first.stackTrace?.message ?? first.stackTrace ?? '';
      return ['error', cause ? `${reason} (${cause})` : reason];
    }
    return ['invalid', reason];
  }

  const steps = new Map((result.log ?? []).map((step) => [step.id, step]));
  if (steps.get('valid_signature')?.valid !== true) {
    return ['invalid', 'verifier-core did not report a valid signature'];
  }
  if (steps.get('expiration')?.valid === false) {
    return ['invalid', 'the credential has expired (validUntil is in the past)'];
  }

  const status = steps.get('revocation_status');
  if (credential.credentialStatus !== undefined) {
    if (status === undefined) {
      return ['error', 'the credential has a credentialStatus, but verifier-core did not check it'];
    }
    if (status.error) {
      return ['invalid', `status list check failed: ${status.error.name}: ${status.error.message}`];
    }
    if (status.valid === false) {
      const entry = [].concat(credential.credentialStatus)[0];
      return ['revoked', `bit ${entry.statusListIndex} is set in ${entry.statusListCredential}`];
    }
  }
  return ['valid', ''];
}

function schemaNote(blocked) {
  return blocked.some((url) => url.startsWith(SCHEMA_PREFIX))
    ? 'JSON Schema check not run offline'
    : '';
}

const { credentialPath, statusLists } = parseArguments(process.argv.slice(2));
const credential = readJson(credentialPath, 'credential');
const blocked = installNetworkGuard(statusLists);
const { verifyCredential } = await import('@digitalcredentials/verifier-core');

// The schema check prints its messages, with stack traces, to standard
// output, which carries only the outcome line. Keep the first line of each
// message for standard error.
const printToStdout = console.log;
const printToStderr = console.error;
const messages = [];
console.log = (...parts) => messages.push(parts.map(String).join(' ').split('\n')[0]);
console.error = console.log;
let result;
try {
  result = await verifyCredential({ credential, knownDIDRegistries: [] });
} catch (error) {
  finish('error', `verifier-core raised ${error.name}: ${error.message}`);
} finally {
  console.log = printToStdout;
  console.error = printToStderr;
  messages.forEach((message) => printToStderr(`verifier-core: ${message}`));
}

const [outcome, reason] = classify(result, credential, blocked);
finish(outcome, reason, outcome === 'error' ? '' : schemaNote(blocked));
