//! The deployment template declares the same table that the code creates,
//! and gives each secret only to the functions that use it.

use serde_json::Value;

#[test]
fn template_table_matches_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    let text = std::fs::read_to_string(&path).expect("infra/template.yaml is readable");
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("the template is valid YAML");

    let resources = template["Resources"].as_mapping().expect("the template has Resources");
    let tables: Vec<_> = resources
        .values()
        .filter(|resource| resource["Type"].as_str() == Some("AWS::DynamoDB::Table"))
        .collect();
    assert_eq!(tables.len(), 1, "the template declares one table");
    let properties = &tables[0]["Properties"];

    let expected = serde_json::to_value(badges_shared::adapters::aws::dynamo::table_schema()).unwrap();
    let Value::Object(expected) = expected else { panic!("the schema serializes to an object") };
    for (key, expected_value) in expected {
        let declared: Value = serde_json::to_value(&properties[key.as_str()]).unwrap();
        assert_eq!(declared, expected_value, "{key} differs between infra/template.yaml and the code");
    }
}

/// Returns the environment variables of every function in the template.
fn function_environments() -> Vec<(String, serde_yaml_ng::Mapping)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    let text = std::fs::read_to_string(&path).expect("infra/template.yaml is readable");
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("the template is valid YAML");
    template["Resources"]
        .as_mapping()
        .expect("the template has Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(name, resource)| {
            let variables = resource["Properties"]["Environment"]["Variables"].as_mapping().cloned().unwrap_or_default();
            (name.as_str().unwrap().to_owned(), variables)
        })
        .collect()
}

#[test]
fn cookie_secret_only_in_claim_and_awards() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let secret = &template["Resources"]["CookieSecret"];
    assert_eq!(secret["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
    assert_eq!(secret["DeletionPolicy"].as_str(), Some("Retain"));
    let length = secret["Properties"]["GenerateSecretString"]["PasswordLength"].as_u64().unwrap();
    assert!(length as usize >= badges_shared::share::ServerKey::MIN_LEN, "the generated secret is long enough");

    let mut with_secret = Vec::new();
    for (function, variables) in function_environments() {
        let Some(value) = variables.get("BADGES_COOKIE_SECRET") else { continue };
        let value = serde_yaml_ng::to_string(value).unwrap();
        assert!(value.contains("{{resolve:secretsmanager:${CookieSecret}:SecretString}}"), "{function}: {value}");
        with_secret.push(function);
    }
    with_secret.sort();
    assert_eq!(with_secret, ["AwardsFunction", "ClaimFunction"]);
}

/// Returns the text of infra/template.yaml and its parsed form.
fn read_template() -> (String, serde_yaml_ng::Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    let text = std::fs::read_to_string(&path).expect("infra/template.yaml is readable");
    let template = serde_yaml_ng::from_str(&text).expect("the template is valid YAML");
    (text, template)
}

/// Returns the Sid, actions and resources of every statement in a role's
/// inline policies that names a Secrets Manager action, as YAML text.
fn secrets_manager_statements(role: &serde_yaml_ng::Value) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for policy in role["Properties"]["Policies"].as_sequence().into_iter().flatten() {
        for statement in policy["PolicyDocument"]["Statement"].as_sequence().into_iter().flatten() {
            let actions = serde_yaml_ng::to_string(&statement["Action"]).unwrap();
            if actions.contains("secretsmanager:") {
                let sid = statement["Sid"].as_str().unwrap_or_default().to_owned();
                let resource = serde_yaml_ng::to_string(&statement["Resource"]).unwrap();
                found.push((sid, actions.trim().to_owned(), resource.trim().to_owned()));
            }
        }
    }
    found
}

#[test]
fn issuer_key_secret_only_for_awards() {
    let (text, template) = read_template();

    let secret = &template["Resources"]["IssuerKeySecret"];
    assert_eq!(secret["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
    assert_eq!(secret["DeletionPolicy"].as_str(), Some("Retain"));
    assert_eq!(secret["UpdateReplacePolicy"].as_str(), Some("Retain"));
    let generated = &secret["Properties"]["GenerateSecretString"];
    let length = generated["PasswordLength"].as_u64().unwrap();
    assert!(length as usize >= badges_shared::adapters::aws::secrets::MIN_SECRET_CHARS, "the generated secret is long enough");
    assert_eq!(generated["ExcludePunctuation"].as_bool(), Some(true));
    assert!(secret["Properties"].get("SecretString").is_none(), "the template must not contain the key");
    assert!(!text.contains("${IssuerKeySecret}:SecretString"), "no resource or output resolves the key's value");

    let mut with_secret = Vec::new();
    for (function, variables) in function_environments() {
        let Some(value) = variables.get("BADGES_ISSUER_KEY_SECRET") else { continue };
        let value = serde_yaml_ng::to_string(value).unwrap();
        assert_eq!(value.trim(), "!Ref IssuerKeySecret", "{function} gets the secret's ARN, not its value");
        with_secret.push(function);
    }
    assert_eq!(with_secret, ["AwardsFunction"]);

    let mut with_permission = Vec::new();
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::IAM::Role") {
            continue;
        }
        let role = name.as_str().unwrap();
        for (sid, actions, resource) in secrets_manager_statements(resource) {
            assert_eq!(actions, "secretsmanager:GetSecretValue", "{role} {sid}: only GetSecretValue");
            assert_eq!(resource, "!Ref IssuerKeySecret", "{role} {sid}: only the issuer key secret");
            with_permission.push(role.to_owned());
        }
    }
    assert_eq!(with_permission, ["AwardsFunctionRole"]);
}
