//! Tests of the store, layers and container filesystems on real tempdir data roots
//! (root required for ownership, device nodes, `trusted.*` xattrs and overlay mounts).

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::layer::apply_layer;
use crate::rootfs;
use crate::{ContainerUse, DeleteItem, ImageError, ImageStore, ImportOptions};

/// One tar entry for [`make_tar`].
struct E {
    name: &'static str,
    kind: tar::EntryType,
    data: &'static [u8],
    link: &'static str,
    mode: u32,
    uid: u64,
    dev: (u32, u32),
    xattrs: Vec<(&'static str, &'static [u8])>,
}

fn e(name: &'static str, kind: tar::EntryType) -> E {
    E {
        name,
        kind,
        data: b"",
        link: "",
        mode: if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        },
        uid: 0,
        dev: (0, 0),
        xattrs: Vec::new(),
    }
}
fn dir(name: &'static str) -> E {
    e(name, tar::EntryType::Directory)
}
fn file(name: &'static str, data: &'static [u8]) -> E {
    E {
        data,
        ..e(name, tar::EntryType::Regular)
    }
}
fn symlink(name: &'static str, link: &'static str) -> E {
    E {
        link,
        ..e(name, tar::EntryType::Symlink)
    }
}
fn hardlink(name: &'static str, link: &'static str) -> E {
    E {
        link,
        ..e(name, tar::EntryType::Link)
    }
}

/// Builds a tar with raw names (no sanitising: malicious names are the point).
fn make_tar(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for en in entries {
        if !en.xattrs.is_empty() {
            let pax: Vec<(String, &[u8])> = en
                .xattrs
                .iter()
                .map(|(k, v)| (format!("SCHILY.xattr.{k}"), *v))
                .collect();
            b.append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), *v)))
                .unwrap();
        }
        let mut h = tar::Header::new_gnu();
        {
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..en.name.len()].copy_from_slice(en.name.as_bytes());
            gnu.linkname[..en.link.len()].copy_from_slice(en.link.as_bytes());
        }
        h.set_entry_type(en.kind);
        h.set_mode(en.mode);
        h.set_uid(en.uid);
        h.set_gid(en.uid);
        h.set_mtime(1_600_000_000);
        h.set_size(en.data.len() as u64);
        if matches!(en.kind, tar::EntryType::Char | tar::EntryType::Block) {
            h.set_device_major(en.dev.0).unwrap();
            h.set_device_minor(en.dev.1).unwrap();
        }
        h.set_cksum();
        b.append(&h, en.data).unwrap();
    }
    b.into_inner().unwrap()
}

fn sha(data: &[u8]) -> String {
    format!("sha256:{}", crate::layer::hex(&Sha256::digest(data)))
}

fn tmpdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("berth-image-test-")
        .tempdir_in("/var/tmp")
        .unwrap()
}

fn opts(repo: &str) -> ImportOptions {
    ImportOptions {
        repo: Some(repo.to_string()),
        ..Default::default()
    }
}

fn no_containers(_: &str) -> Vec<ContainerUse> {
    Vec::new()
}

fn busybox_like() -> Vec<u8> {
    make_tar(&[
        dir("bin/"),
        E {
            mode: 0o4755,
            uid: 1000,
            ..file("bin/tool", b"#!/bin/sh\necho hi\n")
        },
        symlink("bin/sh", "tool"),
        hardlink("bin/tool2", "bin/tool"),
        E {
            xattrs: vec![("user.note", b"hello")],
            ..file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        },
        E {
            dev: (1, 3),
            mode: 0o666,
            ..e("dev/null", tar::EntryType::Char)
        },
        e("run/fifo", tar::EntryType::Fifo),
        E {
            mode: 0o1777,
            ..dir("tmp/")
        },
    ])
}

fn layer_count(root: &Path) -> usize {
    fs::read_dir(root.join("layers")).unwrap().count()
}

#[test]
fn import_generated_tar() {
    let t = tmpdir();
    let store = ImageStore::open(t.path()).unwrap();
    let tar = busybox_like();
    let id = store
        .import(
            &tar[..],
            &ImportOptions {
                repo: Some("test/Img".into()),
                ..Default::default()
            },
        )
        .map(|_| ())
        .unwrap_err();
    let _ = id;
    assert_eq!(
        layer_count(t.path()),
        0,
        "a bad reference is refused before unpacking"
    );

    let o = ImportOptions {
        repo: Some("test/img:v1".into()),
        changes: vec!["ENV A=b".into(), r#"CMD ["/bin/sh"]"#.into()],
        message: "imported".into(),
        ..Default::default()
    };
    let id = store.import(&tar[..], &o).unwrap();
    // The image ID is the sha256 of the stored config.
    let raw = store.raw_config(&id).unwrap();
    assert_eq!(sha(&raw), id);
    let cfg: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    let keys: Vec<&String> = cfg.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "architecture",
            "comment",
            "config",
            "created",
            "history",
            "os",
            "rootfs"
        ]
    );
    assert_eq!(cfg["rootfs"]["diff_ids"][0], sha(&tar));
    assert_eq!(cfg["history"][0]["comment"], "imported");
    assert_eq!(cfg["config"]["Env"], json!(["A=b"]));
    assert_eq!(cfg["os"], "linux");

    // The layer on disk.
    let diff = t.path().join("layers").join(&sha(&tar)[7..]).join("diff");
    let tool = fs::metadata(diff.join("bin/tool")).unwrap();
    assert_eq!(tool.mode() & 0o7777, 0o4755);
    assert_eq!((tool.uid(), tool.gid()), (1000, 1000));
    assert_eq!(tool.nlink(), 2);
    assert_eq!(tool.mtime(), 1_600_000_000);
    assert_eq!(
        fs::read_link(diff.join("bin/sh")).unwrap(),
        Path::new("tool")
    );
    let null = fs::symlink_metadata(diff.join("dev/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), nix::sys::stat::makedev(1, 3));
    assert!(fs::symlink_metadata(diff.join("run/fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    assert_eq!(
        fs::metadata(diff.join("tmp")).unwrap().mode() & 0o7777,
        0o1777
    );
    assert_eq!(
        fs::metadata(diff.join("tmp")).unwrap().mtime(),
        1_600_000_000
    );
    assert_eq!(
        xattr::get(diff.join("etc/passwd"), "user.note")
            .unwrap()
            .unwrap(),
        b"hello"
    );
    let info: serde_json::Value =
        serde_json::from_slice(&fs::read(diff.parent().unwrap().join("layer.json")).unwrap())
            .unwrap();
    let short = info["short"].as_str().unwrap();
    assert_eq!(short.len(), 26);
    assert_eq!(
        fs::canonicalize(t.path().join("l").join(short)).unwrap(),
        fs::canonicalize(&diff).unwrap()
    );

    // Same layer again (gzip this time): not stored twice.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let id2 = store
        .import(&gz.finish().unwrap()[..], &opts("other"))
        .unwrap();
    assert_ne!(id, id2, "a new created time makes a new image");
    assert_eq!(layer_count(t.path()), 1);

    // Inspect shape.
    let i = store.inspect("test/img:v1").unwrap();
    let keys: Vec<&String> = i.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "Id",
            "RepoTags",
            "RepoDigests",
            "Parent",
            "Comment",
            "Created",
            "DockerVersion",
            "Author",
            "Config",
            "Architecture",
            "Os",
            "Size",
            "GraphDriver",
            "RootFS",
            "Metadata"
        ]
    );
    assert_eq!(i["Id"], json!(id));
    assert_eq!(i["RepoTags"], json!(["test/img:v1"]));
    assert_eq!(i["RepoDigests"], json!([]));
    assert_eq!(i["Comment"], "imported");
    assert_eq!(i["Config"]["Cmd"], json!(["/bin/sh"]));
    assert_eq!(i["Config"]["Entrypoint"], json!(null));
    assert_eq!(i["GraphDriver"]["Name"], "overlay2");
    assert_eq!(
        i["GraphDriver"]["Data"]["UpperDir"],
        json!(diff.display().to_string())
    );
    assert_eq!(
        i["RootFS"],
        json!({"Type": "layers", "Layers": [sha(&tar)]})
    );
    let expected_size = 2 * b"#!/bin/sh\necho hi\n".len() as u64 / 2
        + b"root:x:0:0:root:/root:/bin/sh\n".len() as u64;
    assert_eq!(i["Size"], json!(expected_size));
    assert!(i["Created"].as_str().unwrap().ends_with('Z'));
    assert_ne!(i["Metadata"]["LastTagTime"], "0001-01-01T00:00:00Z");

    // History shape.
    let h = store.history(&id).unwrap();
    assert_eq!(h.len(), 1);
    let keys: Vec<&String> = h[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["Comment", "Created", "CreatedBy", "Id", "Size", "Tags"]
    );
    assert_eq!(h[0]["Id"], json!(id));
    assert_eq!(h[0]["Tags"], json!(["test/img:v1"]));
    assert_eq!(h[0]["Comment"], "imported");
    assert_eq!(h[0]["CreatedBy"], "");

    // config() for `docker run`.
    let c = store.config("test/img:v1").unwrap();
    assert_eq!(c.env, Some(vec!["A=b".to_string()]));
    assert_eq!(c.cmd, Some(vec!["/bin/sh".to_string()]));

    // The index survives a reopen.
    drop(store);
    let store = ImageStore::open(t.path()).unwrap();
    assert_eq!(store.resolve("test/img:v1").unwrap(), id);
    assert_eq!(store.resolve("other").unwrap(), id2);
    assert_eq!(store.list(&BTreeMap::new()).unwrap().len(), 2);
}

#[test]
fn import_without_tag_and_invalid_change() {
    let t = tmpdir();
    let store = ImageStore::open(t.path()).unwrap();
    let err = store
        .import(
            &busybox_like()[..],
            &ImportOptions {
                changes: vec!["RUN echo".into()],
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, ImageError::InvalidArgument(_)));
    assert_eq!(err.to_string(), "run is not a valid change command");
    assert_eq!(err.http_status(), 400);
    assert_eq!(layer_count(t.path()), 0);

    let id = store
        .import(&make_tar(&[])[..], &ImportOptions::default())
        .unwrap();
    let i = store.inspect(&id).unwrap();
    assert_eq!(i["RepoTags"], json!([]));
    assert_eq!(i["Metadata"]["LastTagTime"], "0001-01-01T00:00:00Z");
    let l = store.list(&BTreeMap::new()).unwrap();
    assert_eq!(l[0]["RepoTags"], json!([]));
    assert_eq!(l[0]["Containers"], -1);
    let bad = store
        .import(&b"\x28\xb5\x2f\xfdxx"[..], &ImportOptions::default())
        .unwrap_err();
    assert!(bad.to_string().contains("zstd"), "{bad}");
}

#[test]
fn concurrent_imports_share_the_layer() {
    let t = tmpdir();
    let store = std::sync::Arc::new(ImageStore::open(t.path()).unwrap());
    let tar = std::sync::Arc::new(busybox_like());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (store, tar) = (store.clone(), tar.clone());
            std::thread::spawn(move || store.import(&tar[..], &opts(&format!("img{i}"))).unwrap())
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(layer_count(t.path()), 1);
    assert_eq!(store.list(&BTreeMap::new()).unwrap().len(), 4);
}

#[test]
fn whiteouts_become_overlay_whiteouts() {
    let t = tmpdir();
    let target = t.path().join("diff");
    fs::create_dir(&target).unwrap();
    let tar = make_tar(&[
        dir("d/"),
        file("d/.wh..wh..opq", b""),
        file("d/keep", b"k"),
        file(".wh.gone", b""),
        file(".wh..wh.plnk", b""),
    ]);
    let applied = apply_layer(&tar[..], &target).unwrap();
    assert_eq!(applied.diff_id, sha(&tar));
    let gone = fs::symlink_metadata(target.join("gone")).unwrap();
    assert!(gone.file_type().is_char_device());
    assert_eq!(gone.rdev(), 0);
    assert!(!target.join(".wh.gone").exists());
    assert!(fs::symlink_metadata(target.join(".wh..wh.plnk")).is_err());
    assert!(fs::symlink_metadata(target.join("d/.wh..wh..opq")).is_err());
    assert_eq!(
        xattr::get(target.join("d"), "trusted.overlay.opaque")
            .unwrap()
            .unwrap(),
        b"y"
    );
    assert!(target.join("d/keep").exists());
}

#[test]
fn traversal_attempts_are_refused() {
    let t = tmpdir();
    let root = t.path().join("root");
    let outside = t.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("secret"), "s").unwrap();
    let store = ImageStore::open(&root).unwrap();
    let outside_abs: &'static str = Box::leak(outside.display().to_string().into_boxed_str());
    let secret_abs: &'static str = Box::leak(format!("{outside_abs}/secret").into_boxed_str());
    let written: &'static str = Box::leak(format!("{outside_abs}/written").into_boxed_str());
    let cases: Vec<(&str, Vec<E>)> = vec![
        ("dotdot", vec![file("../x", b"x")]),
        (
            "deep dotdot",
            vec![dir("a/"), file("a/../../../../../x", b"x")],
        ),
        (
            "absolute",
            vec![E {
                name: written,
                ..file("", b"x")
            }],
        ),
        (
            "write through symlink",
            vec![symlink("evil", outside_abs), file("evil/written", b"x")],
        ),
        (
            "relative symlink",
            vec![
                symlink("evil", "../../../../../../.."),
                file("evil/written", b"x"),
            ],
        ),
        (
            "hardlink outside",
            vec![hardlink("h", "../../outside/secret")],
        ),
        ("hardlink absolute", vec![hardlink("h", secret_abs)]),
        (
            "hardlink through symlink",
            vec![symlink("l", outside_abs), hardlink("h", "l/secret")],
        ),
        (
            "dir through symlink",
            vec![symlink("l", outside_abs), dir("l/written/")],
        ),
        (
            "whiteout through symlink",
            vec![symlink("l", outside_abs), file("l/.wh.secret", b"")],
        ),
    ];
    for (what, entries) in cases {
        let tar = make_tar(&entries);
        let err = store.register_layer(None, &tar[..]).unwrap_err();
        assert!(
            matches!(err, ImageError::InvalidArgument(_)),
            "{what}: {err:?}"
        );
        let left: Vec<_> = fs::read_dir(root.join("layers")).unwrap().collect();
        assert!(left.is_empty(), "{what}: half-extracted layer left");
        let outside_now: Vec<_> = fs::read_dir(&outside)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(outside_now, ["secret"], "{what}: wrote outside");
        assert_eq!(fs::read_to_string(outside.join("secret")).unwrap(), "s");
        assert_eq!(
            fs::metadata(outside.join("secret")).unwrap().nlink(),
            1,
            "{what}"
        );
    }
    // A symlink pointing outside is fine as long as nothing goes through it.
    let tar = make_tar(&[symlink("ok", outside_abs), hardlink("ok2", "ok")]);
    store.register_layer(None, &tar[..]).unwrap();
}

#[test]
fn references_and_short_ids() {
    let t = tmpdir();
    let store = ImageStore::open(t.path()).unwrap();
    let id = store.import(&busybox_like()[..], &opts("busybox")).unwrap();
    let hex = &id[7..];
    for name in [
        "busybox",
        "busybox:latest",
        "library/busybox",
        "docker.io/library/busybox:latest",
        id.as_str(),
        hex,
        &hex[..12],
        &hex[..3],
    ] {
        assert_eq!(store.resolve(name).unwrap(), id, "{name}");
    }
    let short_with_algo = format!("sha256:{}", &hex[..8]);
    assert_eq!(store.resolve(&short_with_algo).unwrap(), id);
    let e = store.resolve("nope").unwrap_err();
    assert_eq!(e.to_string(), "No such image: nope:latest");
    assert_eq!(e.http_status(), 404);
    assert_eq!(
        store.resolve("busybox:1").unwrap_err().to_string(),
        "No such image: busybox:1"
    );
    let missing = format!("sha256:{}", "0".repeat(64));
    assert_eq!(
        store.resolve(&missing).unwrap_err().to_string(),
        format!("No such image: {missing}")
    );
    let e = store.resolve("BusyBox").unwrap_err();
    assert_eq!(e.http_status(), 400);
    assert_eq!(
        e.to_string(),
        "invalid reference format: repository name (library/BusyBox) must be lowercase"
    );
    assert_eq!(
        store.list(&BTreeMap::new()).unwrap()[0]["RepoTags"],
        json!(["busybox:latest"])
    );
}

#[test]
fn tag_and_remove_semantics() {
    let t = tmpdir();
    let store = ImageStore::open(t.path()).unwrap();
    let tar = busybox_like();
    let id = store.import(&tar[..], &opts("busybox")).unwrap();
    let short = &id[7..19];

    assert_eq!(
        store.tag("busybox", "Bad", None).unwrap_err().to_string(),
        "invalid reference format: repository name (library/Bad) must be lowercase"
    );
    assert_eq!(
        store
            .tag("busybox", "ok", Some("-x"))
            .unwrap_err()
            .to_string(),
        "invalid tag format"
    );
    assert_eq!(
        store.tag("nope", "ok", None).unwrap_err().to_string(),
        "No such image: nope:latest"
    );
    store.tag("busybox", "mine/bb", Some("v1")).unwrap();
    store
        .tag(&id[7..15], "docker.io/library/second", None)
        .unwrap();
    assert_eq!(
        store.inspect(&id).unwrap()["RepoTags"],
        json!(["busybox:latest", "mine/bb:v1", "second:latest"])
    );

    // By ID with several tags: refused unless forced.
    let e = store
        .remove(short, false, false, &no_containers)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories")
    );
    assert_eq!(e.http_status(), 409);
    // By tag while other tags remain: only untags.
    assert_eq!(
        store
            .remove("mine/bb:v1", false, false, &no_containers)
            .unwrap(),
        [DeleteItem::Untagged("mine/bb:v1".into())]
    );
    assert_eq!(
        serde_json::to_value(
            store
                .remove("second", false, false, &no_containers)
                .unwrap()
        )
        .unwrap(),
        json!([{"Untagged": "second:latest"}])
    );

    // A stopped container uses the image.
    let stopped = |_: &str| {
        vec![ContainerUse {
            id: "c0ffee0000000000000000000000000000000000000000000000000000000000".into(),
            running: false,
        }]
    };
    let e = store.remove("busybox", false, false, &stopped).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "conflict: unable to remove repository reference \"busybox\" (must force) - container c0ffee000000 is using its referenced image {short}"
        )
    );
    let e = store.remove(&id, false, false, &stopped).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("conflict: unable to delete {short} (must be forced) - image is being used by stopped container c0ffee000000")
    );
    // A running one: cannot be forced by ID; by name, force only untags.
    let running = |_: &str| {
        vec![ContainerUse {
            id: "beef".repeat(16),
            running: true,
        }]
    };
    let e = store.remove(&id, true, false, &running).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("conflict: unable to delete {short} (cannot be forced) - image is being used by running container beefbeefbeef")
    );
    store.tag(&id, "busybox", Some("keep")).unwrap();
    assert_eq!(
        store.remove("busybox", true, false, &running).unwrap(),
        [DeleteItem::Untagged("busybox:latest".into())]
    );
    assert_eq!(
        store.remove("busybox:keep", true, false, &running).unwrap(),
        [DeleteItem::Untagged("busybox:keep".into())]
    );
    assert_eq!(store.resolve(&id).unwrap(), id, "still there, dangling");
    let dangling = store
        .list(&BTreeMap::from([("dangling".into(), vec!["true".into()])]))
        .unwrap();
    assert_eq!(dangling.len(), 1);

    // Forced removal while a stopped container uses it: layers stay until gc.
    let chain = format!("sha256:{}", &sha(&tar)[7..]);
    assert_eq!(
        store.remove(&id, true, false, &stopped).unwrap(),
        [DeleteItem::Deleted(id.clone())]
    );
    assert!(store.resolve(&id).is_err());
    assert_eq!(layer_count(t.path()), 1);
    assert!(store.gc(std::slice::from_ref(&id)).unwrap().is_empty());
    assert_eq!(store.gc(&[]).unwrap(), [chain.as_str()]);
    assert_eq!(layer_count(t.path()), 0);
    assert_eq!(fs::read_dir(t.path().join("l")).unwrap().count(), 0);

    // A plain removal deletes the image and its layer.
    let id = store.import(&tar[..], &opts("busybox")).unwrap();
    assert_eq!(
        store
            .remove("busybox", false, false, &no_containers)
            .unwrap(),
        [
            DeleteItem::Untagged("busybox:latest".into()),
            DeleteItem::Deleted(id.clone()),
            DeleteItem::Deleted(chain)
        ]
    );
    assert_eq!(layer_count(t.path()), 0);
    assert_eq!(
        fs::read_dir(t.path().join("content/sha256"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        store
            .remove("busybox", false, false, &no_containers)
            .unwrap_err()
            .http_status(),
        404
    );
}

#[test]
fn list_filters() {
    let t = tmpdir();
    let store = ImageStore::open(t.path()).unwrap();
    let a = store
        .import(
            &busybox_like()[..],
            &ImportOptions {
                repo: Some("alpha".into()),
                changes: vec!["LABEL team=core tier=1".into()],
                ..Default::default()
            },
        )
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = store
        .import(&busybox_like()[..], &opts("user/beta:2"))
        .unwrap();
    let f = |k: &str, v: &str| BTreeMap::from([(k.to_string(), vec![v.to_string()])]);
    let ids = |l: Vec<serde_json::Value>| {
        l.iter()
            .map(|i| i["Id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.list(&BTreeMap::new()).unwrap()),
        [b.as_str(), a.as_str()],
        "newest first"
    );
    assert_eq!(
        ids(store.list(&f("reference", "alpha")).unwrap()),
        [a.as_str()]
    );
    assert_eq!(
        ids(store.list(&f("reference", "user/*")).unwrap()),
        [b.as_str()]
    );
    assert_eq!(
        ids(store.list(&f("reference", "user/*:2")).unwrap()),
        [b.as_str()]
    );
    assert!(
        store.list(&f("reference", "*:2")).unwrap().is_empty(),
        "* does not match '/'"
    );
    assert_eq!(
        ids(store.list(&f("reference", "*")).unwrap()),
        [a.as_str()],
        "* does not match '/'"
    );
    assert_eq!(ids(store.list(&f("label", "team")).unwrap()), [a.as_str()]);
    assert_eq!(
        ids(store.list(&f("label", "team=core")).unwrap()),
        [a.as_str()]
    );
    assert!(store.list(&f("label", "team=x")).unwrap().is_empty());
    assert_eq!(
        ids(store.list(&f("before", "user/beta:2")).unwrap()),
        [a.as_str()]
    );
    assert_eq!(ids(store.list(&f("since", "alpha")).unwrap()), [b.as_str()]);
    assert_eq!(ids(store.list(&f("dangling", "false")).unwrap()).len(), 2);
    assert!(store.list(&f("dangling", "true")).unwrap().is_empty());
    assert_eq!(
        store.list(&f("dangling", "maybe")).unwrap_err().to_string(),
        "invalid filter 'dangling=maybe'"
    );
    assert_eq!(
        store.list(&f("bogus", "1")).unwrap_err().to_string(),
        "invalid filter 'bogus'"
    );
    assert_eq!(
        store.list(&f("since", "nope")).unwrap_err().to_string(),
        "No such image: nope:latest"
    );
    let item = &store.list(&f("reference", "alpha")).unwrap()[0];
    let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "Containers",
            "Created",
            "Id",
            "Labels",
            "ParentId",
            "RepoDigests",
            "RepoTags",
            "SharedSize",
            "Size",
            "VirtualSize"
        ]
    );
    assert_eq!(item["Labels"], json!({"team": "core", "tier": "1"}));
}

/// Unmounts on drop, so that a failing test leaves no mount behind.
struct MountGuard(PathBuf);
impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = rootfs::unmount(&self.0);
    }
}

/// Names, kinds, modes, owners and contents of a tree, for comparisons.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let ft = m.file_type();
            let what = if ft.is_dir() {
                stack.push(p.clone());
                "dir".to_string()
            } else if ft.is_symlink() {
                format!("link->{}", fs::read_link(&p).unwrap().display())
            } else if ft.is_file() {
                format!(
                    "file:{}:nlink{}",
                    fs::read_to_string(&p).unwrap_or_default(),
                    m.nlink()
                )
            } else {
                format!("special:{:o}:{}", m.mode() & 0o170000, m.rdev())
            };
            let x = xattr::get(&p, "user.note")
                .ok()
                .flatten()
                .map(|v| String::from_utf8_lossy(&v).into_owned());
            let mode = if ft.is_symlink() {
                0
            } else {
                m.mode() & 0o7777
            };
            out.insert(
                rel,
                format!(
                    "{what} mode={mode:o} uid={} gid={} x={x:?}",
                    m.uid(),
                    m.gid()
                ),
            );
        }
    }
    out
}

#[test]
fn overlay_mount_whiteout_and_export_round_trip() {
    let t = tmpdir();
    let store = ImageStore::open(&t.path().join("root")).unwrap();
    let base = busybox_like();
    let l1 = store.register_layer(None, &base[..]).unwrap();
    let top = make_tar(&[
        file(".wh.tmp", b""),
        file("bin/.wh.sh", b""),
        file("new", b"new"),
    ]);
    let l2 = store.register_layer(Some(&l1.chain_id), &top[..]).unwrap();
    assert_eq!(l2.chain_id, crate::chain_id(Some(&l1.chain_id), &sha(&top)));
    let config = json!({
        "architecture": "amd64", "config": {}, "created": "2024-01-02T03:04:05.5Z",
        "history": [{"created": "2024-01-02T03:04:05Z", "created_by": "base"},
                    {"created": "2024-01-02T03:04:05.5Z", "created_by": "top"}],
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [l1.diff_id, l2.diff_id]}
    });
    let id = store
        .create_image(&serde_json::to_vec(&config).unwrap(), None)
        .unwrap();
    let h = store.history(&id).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(
        (h[0]["CreatedBy"].as_str(), h[0]["Id"].as_str()),
        (Some("top"), Some(id.as_str()))
    );
    assert_eq!(
        (h[1]["CreatedBy"].as_str(), h[1]["Id"].as_str()),
        (Some("base"), Some("<missing>"))
    );
    assert_eq!(h[0]["Size"], json!(3));
    let gd = &store.inspect(&id).unwrap()["GraphDriver"]["Data"];
    assert!(gd["LowerDir"].as_str().unwrap().ends_with("/diff"));

    let cdir = t.path().join("containers/c1");
    let prepared = store.prepare_rootfs(&id, &cdir).unwrap();
    assert_eq!(prepared.lowerdir.split(':').count(), 2);
    assert!(prepared
        .lowerdir
        .split(':')
        .next()
        .unwrap()
        .ends_with(&l2.short));
    assert_eq!(
        prepared.graph_driver["MergedDir"],
        cdir.join("rootfs").display().to_string()
    );
    let _guard = MountGuard(cdir.clone());
    rootfs::mount(&prepared.lowerdir, &cdir).unwrap();
    rootfs::mount(&prepared.lowerdir, &cdir).unwrap(); // already mounted: no-op
    assert!(rootfs::is_mounted(&cdir.join("rootfs")).unwrap());
    let merged = cdir.join("rootfs");
    assert!(!merged.join("tmp").exists(), "whiteout hides the lower dir");
    assert!(
        fs::symlink_metadata(merged.join("bin/sh")).is_err(),
        "whiteout hides the lower symlink"
    );
    assert!(merged.join("bin/tool").exists());
    assert_eq!(fs::read_to_string(merged.join("new")).unwrap(), "new");
    fs::write(merged.join("written"), "12345").unwrap();
    assert_eq!(
        fs::read_to_string(cdir.join("upper/written")).unwrap(),
        "12345"
    );
    assert_eq!(rootfs::dir_size(&cdir.join("upper")).unwrap(), 5);
    assert_eq!(store.image_size(&id).unwrap(), l1.size + 3);

    // export → apply into a fresh dir → same tree.
    let exported = rootfs::export(&merged, Vec::new()).unwrap();
    let names: Vec<String> = tar::Archive::new(&exported[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(
        names.contains(&"bin/".to_string()) && names.contains(&"bin/tool".to_string()),
        "{names:?}"
    );
    assert!(!names
        .iter()
        .any(|n| n.starts_with('/') || n.starts_with("./") || n.contains(".wh.")));
    let copy = t.path().join("copy");
    fs::create_dir(&copy).unwrap();
    apply_layer(&exported[..], &copy).unwrap();
    assert_eq!(snapshot(&merged), snapshot(&copy));
    let tool = fs::metadata(copy.join("bin/tool")).unwrap();
    assert_eq!(
        (tool.mode() & 0o7777, tool.uid(), tool.nlink()),
        (0o4755, 1000, 2)
    );

    rootfs::unmount(&cdir).unwrap();
    rootfs::unmount(&cdir).unwrap(); // idempotent
    assert!(!rootfs::is_mounted(&merged).unwrap());
    assert!(!merged.join("bin").exists());
}

#[test]
fn image_without_layers_mounts() {
    let t = tmpdir();
    let store = ImageStore::open(&t.path().join("root")).unwrap();
    let config = br#"{"architecture":"amd64","config":null,"created":"2024-01-01T00:00:00Z","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let id = store.create_image(config, None).unwrap();
    assert_eq!(
        store.inspect(&id).unwrap()["RootFS"],
        json!({"Type": "layers"})
    );
    let cdir = t.path().join("c");
    let p = store.prepare_rootfs(&id, &cdir).unwrap();
    assert_eq!(p.lowerdir, cdir.join("lower").display().to_string());
    let _guard = MountGuard(cdir.clone());
    rootfs::mount(&p.lowerdir, &cdir).unwrap();
    fs::write(cdir.join("rootfs/x"), "x").unwrap();
    let mut tar = Vec::new();
    rootfs::export(&cdir.join("rootfs"), &mut tar).unwrap();
    let mut entries = tar::Archive::new(&tar[..]);
    let mut e = entries.entries().unwrap().next().unwrap().unwrap();
    let mut s = String::new();
    e.read_to_string(&mut s).unwrap();
    assert_eq!(
        (e.path().unwrap().display().to_string(), s),
        ("x".to_string(), "x".to_string())
    );
    rootfs::unmount(&cdir).unwrap();
    assert_eq!(fs::read_to_string(cdir.join("upper/x")).unwrap(), "x");
}

/// scripts/busybox-rootfs.sh → import → overlay → a shell runs in it (chroot).
#[test]
fn busybox_script_image_runs() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/busybox-rootfs.sh");
    let t = tmpdir();
    let tar_path = t.path().join("busybox.tar");
    let status = std::process::Command::new("bash")
        .arg(&script)
        .arg(&tar_path)
        .status()
        .unwrap();
    assert!(status.success(), "busybox-rootfs.sh failed");
    let store = ImageStore::open(&t.path().join("root")).unwrap();
    let id = store
        .import(fs::File::open(&tar_path).unwrap(), &opts("busybox"))
        .unwrap();
    // Reproducible: a second build gives the same layer.
    assert_eq!(
        store.inspect("busybox").unwrap()["RootFS"]["Layers"][0],
        json!(sha(&fs::read(&tar_path).unwrap()))
    );
    let cdir = t.path().join("containers/c");
    let p = store.prepare_rootfs(&id, &cdir).unwrap();
    let _guard = MountGuard(cdir.clone());
    rootfs::mount(&p.lowerdir, &cdir).unwrap();
    let out = std::process::Command::new("chroot")
        .arg(cdir.join("rootfs"))
        .args([
            "/bin/sh",
            "-c",
            "echo hi > /tmp/x && cat /tmp/x && grep -c nobody:x:65534 /etc/passwd && ls -ld /tmp",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("hi\n1\ndrwxrwxrwt"), "{stdout}");
    assert_eq!(
        fs::read_to_string(cdir.join("upper/tmp/x")).unwrap(),
        "hi\n"
    );
    rootfs::unmount(&cdir).unwrap();
}
