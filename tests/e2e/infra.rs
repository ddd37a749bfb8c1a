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
