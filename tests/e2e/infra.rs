//! The deployment template declares the same table that the code creates.

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
