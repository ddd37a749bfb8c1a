"""Verify one Open Badges 3.0 credential offline with openbadgeslib 4.6.3.

    obl-verify.py CREDENTIAL.json [STATUS_LIST_URL=FILE ...]

Prints one line and exits with its code:

    valid               0  the proof verifies, the credential is in its
                           validity period and, when it has a status, the
                           status list does not mark it
    invalid: REASON     1  openbadgeslib rejected the proof or the content
    error: REASON       2  bad arguments, a crash, or a blocked download, so
                           no verdict about the credential was reached
    revoked: REASON     3  everything verifies, but the status list marks
                           the credential as revoked

The run makes no network request. openbadgeslib resolves JSON-LD contexts
only from the copies it ships and did:key identifiers without the network.
Its downloads (status lists, did:web documents) go through the download
function below, which returns the status list files given on the command
line and blocks everything else. Sockets are blocked as well. A blocked
download makes the outcome "error", because the verdict would then rest on
a document that was not checked.

openbadgeslib 4.6.3 verifies the proof of a status list only when the list
is a JWT (ob3/status.py, _verify_list_proof). For a JSON status list this
runner checks the list's Data Integrity proof itself, with openbadgeslib's
verify_data_integrity_proof, and requires the list's issuer to be the
credential's issuer.
"""

import json
import re
import socket
import sys

EXIT_CODES = {"valid": 0, "invalid": 1, "error": 2, "revoked": 3}

# The message of openbadgeslib 4.6.3 (ob3/status.py, _check_entry) when a
# status bit with the purpose "revocation" is set.
REVOKED_MESSAGE = re.compile(r"Credential status 'revocation' is set at index (\d+) in (\S+)")

blocked_requests = []


def finish(outcome, reason=""):
    line = f"{outcome}: {reason}" if reason else outcome
    print(" ".join(line.split()), flush=True)
    sys.exit(EXIT_CODES[outcome])


def block_socket_use(*args, **kwargs):
    target = repr(args[1]) if len(args) > 1 else repr(args[:1])
    blocked_requests.append(f"socket:{target}")
    raise OSError(f"offline run: blocked a network connection to {target}")


def block_sockets():
    socket.socket.connect = block_socket_use
    socket.socket.connect_ex = block_socket_use
    socket.create_connection = lambda address, *args, **kwargs: block_socket_use(None, address)
    socket.getaddrinfo = lambda host, *args, **kwargs: block_socket_use(None, host)


def blocked_message(document):
    urls = list(dict.fromkeys(blocked_requests))
    status_urls = [entry.get("statusListCredential") for entry in status_entries(document) if isinstance(entry, dict)]
    hint = "; give the status list as URL=FILE" if all(url in status_urls for url in urls) else ""
    return f"blocked the download of {', '.join(urls)}{hint}"


def parse_arguments(argv):
    if not argv or argv[0].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        finish("error", "missing the credential file argument")
    credential_path, mappings = argv[0], argv[1:]
    status_lists = {}
    for mapping in mappings:
        url, separator, path = mapping.partition("=")
        if not url or not separator:
            finish("error", f"status list mapping {mapping!r} is not of the form URL=FILE")
        try:
            with open(path, "rb") as handle:
                status_lists[url] = handle.read()
        except OSError as error:
            finish("error", f"cannot read the status list {path}: {error.strerror}")
    return credential_path, status_lists


def status_entries(document):
    status = document.get("credentialStatus")
    if status is None:
        return []
    return status if isinstance(status, list) else [status]


def issuer_id(value):
    return value.get("id") if isinstance(value, dict) else value


def check_status_list_proof(url, raw, credential_issuer, download):
    """Verify the Data Integrity proof of a JSON status list credential.

    Raises OB3VerificationError when the list is not from the credential's
    issuer or its proof does not verify. A JWT list is left to openbadgeslib.
    """
    from openbadgeslib.ob3 import OB3VerificationError
    from openbadgeslib.ob3.did import resolve_verification_method
    from openbadgeslib.ob3.ldp import verify_data_integrity_proof

    text = raw.decode("utf-8").strip()
    if not text.startswith("{"):
        return
    try:
        document = json.loads(text)
    except ValueError as error:
        raise OB3VerificationError(f"status list {url} is not valid JSON: {error}") from error
    list_issuer = issuer_id(document.get("issuer"))
    if list_issuer != credential_issuer:
        raise OB3VerificationError(
            f"status list {url} is issued by {list_issuer!r}, not by the credential issuer {credential_issuer!r}")
    proofs = document.get("proof")
    proof = proofs[0] if isinstance(proofs, list) and proofs else proofs
    method = proof.get("verificationMethod", "") if isinstance(proof, dict) else ""
    if method.partition("#")[0] != list_issuer:
        raise OB3VerificationError(
            f"status list {url} proof method {method!r} does not belong to its issuer {list_issuer!r}")
    public_key = resolve_verification_method(method, download=download)
    try:
        verify_data_integrity_proof(document, public_key)
    except OB3VerificationError as error:
        raise OB3VerificationError(f"status list {url} proof is invalid: {error}") from error


def verify(credential_path, status_lists):
    """Return the outcome and reason for one credential."""
    from openbadgeslib.ob3 import OB3LdpVerifier, OB3VerificationError
    from openbadgeslib.ob3.ldp import OB3GuardUnavailable

    def download(url, *args, **kwargs):
        if url in status_lists:
            return status_lists[url]
        blocked_requests.append(url)
        raise OB3VerificationError(f"offline run: blocked the download of {url}")

    try:
        with open(credential_path, encoding="utf-8") as handle:
            text = handle.read()
        document = json.loads(text)
    except (OSError, ValueError) as error:
        return "error", f"cannot read the credential {credential_path}: {error}"
    if not isinstance(document, dict):
        return "invalid", "the credential is not a JSON object"

    issuer = issuer_id(document.get("issuer"))
    if not isinstance(issuer, str) or not issuer.startswith("did:key:"):
        return "error", f"issuer {issuer!r} is not a did:key, the only kind of issuer resolved offline"
    try:
        entries = status_entries(document)
        for entry in entries:
            url = entry.get("statusListCredential") if isinstance(entry, dict) else None
            if url in status_lists:
                check_status_list_proof(url, status_lists[url], issuer, download)
        # openbadgeslib checks the proof of a JWT status list itself, and
        # check_status_list_proof has checked the JSON ones above.
        jwt_lists = any(not raw.strip().startswith(b"{") for raw in status_lists.values())
        verifier = OB3LdpVerifier.for_issuer_did(issuer)
        verifier.verify(text, check_status=bool(entries), verify_status_list=jwt_lists, download=download)
    except OB3GuardUnavailable as error:
        return "error", f"openbadgeslib could not run its canonicalization guard: {error}"
    except OB3VerificationError as error:
        if blocked_requests:
            return "error", blocked_message(document)
        revoked = REVOKED_MESSAGE.search(str(error))
        if revoked:
            return "revoked", f"bit {revoked.group(1)} is set in {revoked.group(2)}"
        return "invalid", str(error)

    if blocked_requests:
        return "error", blocked_message(document)
    return "valid", ""


def main(argv):
    block_sockets()
    credential_path, status_lists = parse_arguments(argv)
    try:
        outcome, reason = verify(credential_path, status_lists)
    except Exception as error:  # A crash is reported as its own outcome, never as "invalid".
        outcome, reason = "error", f"openbadgeslib raised {type(error).__name__}: {error}"
    finish(outcome, reason)


if __name__ == "__main__":
    main(sys.argv[1:])
