//! Responses adapted to the API version a client asked for, as dockerd's handlers do:
//! fields that newer versions dropped are still sent to older clients, and not to newer
//! ones (whose spec no longer lists them).

use serde_json::Value;

use crate::version::compare;

fn older_than(version: &str, than: &str) -> bool {
    compare(version, than) == std::cmp::Ordering::Less
}

/// `Config` keys of an image that API 1.50 stopped sending: they come from the container
/// config type and never meant anything for an image (dockerd sends them empty before).
const LEGACY_IMAGE_CONFIG_KEYS: [&str; 9] = [
    "Hostname",
    "Domainname",
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
    "Tty",
    "OpenStdin",
    "StdinOnce",
    "Image",
];

/// `GET /images/{name}/json` at `version`.
pub fn image_inspect(version: &str, image: &mut Value) {
    let Some(obj) = image.as_object_mut() else {
        return;
    };
    virtual_size(version, obj);
    if older_than(version, "1.45") {
        // `Container` and `ContainerConfig` (the build container) went away in 1.45.
        obj.entry("Container").or_insert_with(|| Value::from(""));
        let empty_config = obj.get("Config").cloned().map(|mut c| {
            if let Some(c) = c.as_object_mut() {
                for (_, v) in c.iter_mut() {
                    *v = match v {
                        Value::Bool(_) => Value::Bool(false),
                        Value::String(_) => Value::from(""),
                        _ => Value::Null,
                    };
                }
            }
            c
        });
        obj.entry("ContainerConfig")
            .or_insert_with(|| empty_config.unwrap_or(Value::Null));
    }
    if let Some(config) = obj.get_mut("Config").and_then(Value::as_object_mut) {
        if older_than(version, "1.50") {
            for key in LEGACY_IMAGE_CONFIG_KEYS {
                let empty = if matches!(key, "Hostname" | "Domainname" | "Image") {
                    Value::from("")
                } else {
                    Value::Bool(false)
                };
                config.entry(key).or_insert(empty);
            }
        } else {
            for key in LEGACY_IMAGE_CONFIG_KEYS {
                config.remove(key);
            }
        }
    }
}

/// One item of `GET /images/json` at `version`.
pub fn image_summary(version: &str, item: &mut Value) {
    let Some(obj) = item.as_object_mut() else {
        return;
    };
    virtual_size(version, obj);
}

/// `VirtualSize` (= Size since layers are shared) went away in 1.44.
fn virtual_size(version: &str, obj: &mut serde_json::Map<String, Value>) {
    if older_than(version, "1.44") {
        let size = obj.get("Size").cloned().unwrap_or(Value::from(0));
        obj.insert("VirtualSize".into(), size);
    } else {
        obj.remove("VirtualSize");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image() -> Value {
        json!({
            "Id": "sha256:x", "Size": 10, "VirtualSize": 10,
            "Config": {"Hostname": "", "AttachStdin": false, "Tty": false, "Image": "",
                       "Cmd": ["sh"], "Env": null, "User": ""}
        })
    }

    #[test]
    fn image_inspect_by_version() {
        let mut v = image();
        image_inspect("1.50", &mut v);
        assert!(v.get("VirtualSize").is_none());
        assert!(v.get("ContainerConfig").is_none());
        let mut keys: Vec<&String> = v["Config"].as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["Cmd", "Env", "User"]);

        let mut v = image();
        image_inspect("1.41", &mut v);
        assert_eq!(v["VirtualSize"], 10);
        assert_eq!(v["Container"], "");
        assert_eq!(v["ContainerConfig"]["Cmd"], Value::Null);
        assert_eq!(v["ContainerConfig"]["Tty"], false);
        assert_eq!(v["Config"]["Hostname"], "");
        assert_eq!(v["Config"]["OpenStdin"], false);
        assert_eq!(v["Config"]["StdinOnce"], false);
        assert_eq!(v["Config"]["Domainname"], "");
        assert_eq!(v["Config"]["Cmd"], json!(["sh"]));

        let mut v = image();
        image_inspect("1.47", &mut v);
        assert!(v.get("VirtualSize").is_none() && v.get("Container").is_none());
        assert_eq!(v["Config"]["Image"], "");
    }

    #[test]
    fn image_summary_by_version() {
        let mut v = json!({"Id": "x", "Size": 5});
        image_summary("1.43", &mut v);
        assert_eq!(v["VirtualSize"], 5);
        image_summary("1.44", &mut v);
        assert!(v.get("VirtualSize").is_none());
    }
}
