//! Image commands.

use berth_client::{encode, Client};
use serde_json::{json, Value};

use super::container::{filters_json, split_ref};
use super::{Failure, HistoryArgs, ImagesArgs, ImportArgs, Res, RmiArgs, TagArgs};
use crate::format::{
    self,
    template::{Ctx, Format},
    units,
};

/// Headers of `images` table fields.
pub const IMAGE_HEADERS: &[(&str, &str)] = &[
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("Containers", "CONTAINERS"),
    ("VirtualSize", "VIRTUAL SIZE"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
];

const IMAGES_DEFAULT: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const IMAGES_DIGESTS: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

/// The rows of `images`: one per repo:tag (or `<none>`), like docker.
pub fn image_rows(images: &[Value], trunc: bool, now: i64) -> Vec<Value> {
    let mut rows = Vec::new();
    for img in images {
        let id = img["Id"].as_str().unwrap_or("");
        let created = img["Created"].as_i64().unwrap_or(0);
        let size = img["Size"].as_i64().unwrap_or(0);
        let digests: Vec<&str> = img["RepoDigests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let tags: Vec<&str> = img["RepoTags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|t| *t != "<none>:<none>")
            .collect();
        let mut pairs: Vec<(String, String, String)> = Vec::new();
        for t in &tags {
            let (repo, tag) = split_ref(t);
            let digest = digests
                .iter()
                .find(|d| d.split('@').next() == Some(repo.as_str()))
                .and_then(|d| d.split('@').nth(1))
                .unwrap_or("<none>");
            pairs.push((
                repo,
                tag.unwrap_or_else(|| "<none>".into()),
                digest.to_string(),
            ));
        }
        if pairs.is_empty() {
            match digests.first() {
                Some(d) => {
                    let (repo, dig) = d.split_once('@').unwrap_or((d, "<none>"));
                    pairs.push((repo.to_string(), "<none>".into(), dig.to_string()));
                }
                None => pairs.push(("<none>".into(), "<none>".into(), "<none>".into())),
            }
        }
        for (repo, tag, digest) in pairs {
            rows.push(json!({
                "Containers": "N/A",
                "CreatedAt": super::container::go_time_string(created),
                "CreatedSince": if created == 0 { "N/A".to_string() } else { units::ago(created, now) },
                "Digest": digest,
                "ID": if trunc { format::short_id(id) } else { id.to_string() },
                "LabelMap": img["Labels"].clone(),
                "Repository": repo,
                "SharedSize": "N/A",
                "Size": units::human_size(size as f64),
                "Tag": tag,
                "UniqueSize": "N/A",
                "VirtualSize": units::human_size_prec(size as f64, 4),
            }));
        }
    }
    rows
}

/// The rendered `images` output (pure).
pub fn images_output(images: &[Value], a: &ImagesArgs, now: i64) -> Result<String, Failure> {
    let default = if a.digests {
        IMAGES_DIGESTS
    } else {
        IMAGES_DEFAULT
    };
    let format = match &a.format {
        Some(f) if !f.is_empty() && f.trim() != "table" => f.clone(),
        _ if a.quiet => "{{.ID}}".to_string(),
        _ => default.to_string(),
    };
    let fmt =
        Format::parse_in(Ctx::Images, &format, default).map_err(Failure::template(Ctx::Images))?;
    let rows = image_rows(images, !a.no_trunc, now);
    fmt.render_all(&rows, IMAGE_HEADERS)
        .map_err(Failure::template(Ctx::Images))
}

/// `images` / `image ls`.
pub async fn images(client: &Client, a: ImagesArgs) -> Res {
    let mut filters = a.filter.clone();
    if let Some(r) = &a.reference {
        filters.push(format!("reference={r}"));
    }
    let mut q = Vec::new();
    if a.all {
        q.push(("all", "1".to_string()));
    }
    if a.digests {
        q.push(("digests", "1".to_string()));
    }
    if !filters.is_empty() {
        q.push(("filters", filters_json(&filters, "images")?));
    }
    let v = client
        .get(&format!("/images/json{}", berth_client::query(&q)))
        .await?;
    let list = v.as_array().cloned().unwrap_or_default();
    print!(
        "{}",
        images_output(&list, &a, chrono::Utc::now().timestamp())?
    );
    Ok(0)
}

/// `rmi` / `image rm`.
pub async fn rmi(client: &Client, a: RmiArgs) -> Res {
    let mut q = Vec::new();
    if a.force {
        q.push(("force", "1".to_string()));
    }
    if a.no_prune {
        q.push(("noprune", "1".to_string()));
    }
    let q = berth_client::query(&q);
    let mut errors = Vec::new();
    for img in &a.images {
        match client.delete(&format!("/images/{}{q}", encode(img))).await {
            Ok((_, v)) => {
                for item in v.as_array().into_iter().flatten() {
                    if let Some(u) = item["Untagged"].as_str() {
                        println!("Untagged: {u}");
                    }
                    if let Some(d) = item["Deleted"].as_str() {
                        println!("Deleted: {d}");
                    }
                }
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Failure::msg(errors.join("\n")))
    }
}

/// `tag SOURCE TARGET`.
pub async fn tag(client: &Client, a: TagArgs) -> Res {
    for r in [&a.source, &a.target] {
        super::reference::check(r).map_err(|e| {
            Failure::msg(format!(
                "Error parsing reference: {r:?} is not a valid repository/tag: {e}"
            ))
        })?;
    }
    if a.target.contains('@') {
        return Err(Failure::msg(
            "refusing to create a tag with a digest reference",
        ));
    }
    let (repo, tag) = split_ref(&a.target);
    let mut q = vec![("repo", repo)];
    if let Some(t) = tag {
        q.push(("tag", t));
    }
    client
        .post(
            &format!(
                "/images/{}/tag{}",
                encode(&a.source),
                berth_client::query(&q)
            ),
            None,
        )
        .await?;
    Ok(0)
}

const HISTORY_DEFAULT: &str =
    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

/// The rendered `history` output (pure).
pub fn history_output(items: &[Value], a: &HistoryArgs, now: i64) -> Result<String, Failure> {
    let trunc = !a.no_trunc;
    let rows: Vec<Value> = items
        .iter()
        .map(|h| {
            let id = h["Id"].as_str().unwrap_or("");
            let created = h["Created"].as_i64().unwrap_or(0);
            let created_by = h["CreatedBy"].as_str().unwrap_or("").replace('\t', " ");
            let size = h["Size"].as_i64().unwrap_or(0);
            let created_at = chrono::DateTime::from_timestamp(created, 0)
                .map(|t| t.with_timezone(&chrono::Local).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default();
            json!({
                "ID": if id.is_empty() || id == "<missing>" { "<missing>".to_string() } else if trunc { format::short_id(id) } else { id.to_string() },
                "CreatedSince": if a.human { units::ago(created, now) } else { created_at.clone() },
                "CreatedAt": created_at,
                "CreatedBy": if trunc { format::ellipsis(&created_by, 45) } else { created_by },
                "Size": if a.human { units::human_size(size as f64) } else { size.to_string() },
                "Comment": h["Comment"].as_str().unwrap_or(""),
            })
        })
        .collect();
    let format = match &a.format {
        Some(f) if !f.is_empty() && f.trim() != "table" => f.clone(),
        _ if a.quiet => "{{.ID}}".to_string(),
        _ => HISTORY_DEFAULT.to_string(),
    };
    let fmt = Format::parse_in(Ctx::History, &format, HISTORY_DEFAULT)
        .map_err(Failure::template(Ctx::History))?;
    let headers = [
        ("ID", "IMAGE"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
        ("CreatedBy", "CREATED BY"),
        ("Size", "SIZE"),
        ("Comment", "COMMENT"),
    ];
    fmt.render_all(&rows, &headers)
        .map_err(Failure::template(Ctx::History))
}

/// `history IMAGE`.
pub async fn history(client: &Client, a: HistoryArgs) -> Res {
    let v = client
        .get(&format!("/images/{}/history", encode(&a.image)))
        .await?;
    let items = v.as_array().cloned().unwrap_or_default();
    print!(
        "{}",
        history_output(&items, &a, chrono::Utc::now().timestamp())?
    );
    Ok(0)
}

/// The query of `import` (`changes` repeated like docker's client).
pub fn import_query(a: &ImportArgs) -> String {
    let src = if a.source == "-"
        || !(a.source.starts_with("http://") || a.source.starts_with("https://"))
    {
        "-".to_string()
    } else {
        a.source.clone()
    };
    let mut q = vec![("fromSrc", src)];
    if let Some(r) = &a.reference {
        let (repo, tag) = split_ref(r);
        q.push(("repo", repo));
        if let Some(t) = tag {
            q.push(("tag", t));
        }
    }
    if let Some(m) = &a.message {
        q.push(("message", m.clone()));
    }
    for c in &a.change {
        q.push(("changes", c.clone()));
    }
    if let Some(p) = &a.platform {
        q.push(("platform", p.clone()));
    }
    berth_client::query(&q)
}

/// `import file|URL|- [REPOSITORY[:TAG]]`: streams the tar as the request body.
pub async fn import(client: &Client, a: ImportArgs) -> Res {
    if let Some(r) = &a.reference {
        super::reference::check(r).map_err(Failure::msg)?;
    }
    let body = if a.source == "-" {
        berth_client::reader_body(tokio::io::stdin())
    } else if a.source.starts_with("http://") || a.source.starts_with("https://") {
        berth_client::empty_body()
    } else {
        let f = tokio::fs::File::open(&a.source)
            .await
            .map_err(|e| Failure::msg(format!("open {}: {}", a.source, super::io_msg(&e))))?;
        berth_client::reader_body(f)
    };
    let path = format!("/images/create{}", import_query(&a));
    let mut s = client
        .stream(hyper::Method::POST, &path, body, Some("application/x-tar"))
        .await?;
    let mut buf = Vec::new();
    while let Some(chunk) = s.next().await {
        buf.extend_from_slice(&chunk?);
    }
    for v in serde_json::Deserializer::from_slice(&buf)
        .into_iter::<Value>()
        .flatten()
    {
        if let Some(e) = v
            .get("errorDetail")
            .and_then(|d| d.get("message"))
            .or_else(|| v.get("error"))
        {
            return Err(Failure::msg(e.as_str().unwrap_or("").to_string()));
        }
        if let Some(st) = v.get("status").and_then(Value::as_str) {
            println!("{st}");
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(now: i64) -> Vec<Value> {
        vec![
            json!({"Id": "sha256:abcdef0123456789abcdef", "RepoTags": ["mine:v1", "mine:v2"], "RepoDigests": [],
                   "Created": now - 7200, "Size": 4_261_000, "Labels": null}),
            json!({"Id": "sha256:1111111111112222", "RepoTags": [], "Created": now - 60, "Size": 1000}),
        ]
    }

    #[test]
    fn images_table() {
        let now = 1_700_000_000;
        let out = images_output(&sample(now), &ImagesArgs::default(), now).unwrap();
        assert_eq!(
            out,
            "REPOSITORY   TAG       IMAGE ID       CREATED          SIZE\n\
             mine         v1        abcdef012345   2 hours ago      4.26MB\n\
             mine         v2        abcdef012345   2 hours ago      4.26MB\n\
             <none>       <none>    111111111111   About a minute ago   1kB\n"
                .replace("CREATED          SIZE", "CREATED              SIZE")
                .replace("2 hours ago      4.26MB", "2 hours ago          4.26MB")
        );
        let q = ImagesArgs {
            quiet: true,
            ..Default::default()
        };
        assert_eq!(
            images_output(&sample(now), &q, now).unwrap(),
            "abcdef012345\nabcdef012345\n111111111111\n"
        );
        let q = ImagesArgs {
            quiet: true,
            no_trunc: true,
            ..Default::default()
        };
        assert!(images_output(&sample(now), &q, now)
            .unwrap()
            .starts_with("sha256:abcdef0123456789abcdef\n"));
        let f = ImagesArgs {
            format: Some("{{.Repository}}:{{.Tag}} {{.Size}}".into()),
            ..Default::default()
        };
        assert_eq!(
            images_output(&sample(now), &f, now).unwrap(),
            "mine:v1 4.26MB\nmine:v2 4.26MB\n<none>:<none> 1kB\n"
        );
        let d = ImagesArgs {
            digests: true,
            ..Default::default()
        };
        assert!(images_output(&[], &d, now)
            .unwrap()
            .starts_with("REPOSITORY   TAG       DIGEST    IMAGE ID   CREATED   SIZE"));
    }

    #[test]
    fn history_table() {
        let now = 1_700_000_000;
        let items = vec![
            json!({"Id": "sha256:abcdef0123456789", "Created": now - 10, "CreatedBy": "/bin/sh -c #(nop)\tCMD [\"sh\"] and a lot more text here to cut", "Size": 0, "Comment": "Imported from -"}),
        ];
        let a = HistoryArgs {
            human: true,
            no_trunc: false,
            quiet: false,
            format: None,
            image: "x".into(),
        };
        let out = history_output(&items, &a, now).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "IMAGE          CREATED          CREATED BY                                      SIZE      COMMENT"
        );
        assert!(lines[1].starts_with("abcdef012345   10 seconds ago   /bin/sh -c #(nop) CMD [\"sh\"] and a lot more …   0B        Imported from -"), "{}", lines[1]);
        let q = HistoryArgs {
            quiet: true,
            ..a.clone()
        };
        assert_eq!(history_output(&items, &q, now).unwrap(), "abcdef012345\n");
        let raw = HistoryArgs { human: false, ..a };
        assert!(history_output(&items, &raw, now)
            .unwrap()
            .contains("   0         "));
    }

    #[test]
    fn import_query_shape() {
        let a = ImportArgs {
            change: vec!["CMD [\"echo\", \"hi\"]".into(), "ENV A=b".into()],
            message: Some("msg".into()),
            platform: None,
            source: "/tmp/rootfs.tar".into(),
            reference: Some("mine:v1".into()),
        };
        assert_eq!(
            import_query(&a),
            "?fromSrc=-&repo=mine&tag=v1&message=msg&changes=CMD%20%5B%22echo%22%2C%20%22hi%22%5D&changes=ENV%20A%3Db"
        );
    }
}
