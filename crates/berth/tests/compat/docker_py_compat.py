#!/usr/bin/python3
"""docker-py against berth: the Docker SDK for Python (Debian's python3-docker) drives a
berth daemon the way applications do, and every response is checked against the Engine
API spec (field names and JSON types of the 1.50 swagger definitions).

Run by crates/berth/tests/docker_py.rs:
    DOCKER_HOST=unix:///… BUSYBOX_TAR=… [BERTH_API_SPEC=…/v1.50.yaml] \
        docker_py_compat.py GROUP [CASE …]
GROUP is one of the groups below (each Rust test runs one group against its own daemon);
CASE names restrict the run to some cases. Every case runs even when an earlier one
failed; each failed check is printed as `FAIL <case>: <what>` and the exit status is 1.
"""

import datetime
import io
import json
import os
import signal
import socket
import sys
import tarfile
import threading
import time
import traceback

import docker
import requests
from docker import errors

HOST = os.environ["DOCKER_HOST"]
BUSYBOX_TAR = os.environ["BUSYBOX_TAR"]
SPEC_PATH = os.environ.get("BERTH_API_SPEC", "")
RUN = "%x" % (os.getpid() & 0xFFFFF)  # unique per run: names, labels, tags
LABEL = "berth.compat.run"
CASE_TIMEOUT = int(os.environ.get("CASE_TIMEOUT", "90"))

client = docker.from_env(version=os.environ.get("DOCKER_PY_API_VERSION", "auto"), timeout=30)
api = client.api

# ---------------------------------------------------------------------------------------
# harness


class CaseFailed(Exception):
    pass


GROUPS = {}
_problems = []


def case(group):
    def register(fn):
        GROUPS.setdefault(group, []).append(fn)
        return fn

    return register


def check(cond, what):
    """A soft assertion: records the problem and lets the case go on."""
    if not cond:
        _problems.append(what)
    return bool(cond)


def eq(got, want, what):
    return check(got == want, f"{what}: got {got!r}, want {want!r}")


def wait_until(what, fn, timeout=15.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except errors.NotFound as e:
            last = e
        time.sleep(0.05)
    raise CaseFailed(f"timed out waiting for {what} (last: {last!r})")


def name(suffix):
    return f"py{RUN}-{suffix}"


def run_bg(cmd, suffix, **kw):
    """A detached container labelled for clean-up."""
    labels = dict(kw.pop("labels", {}))
    labels[LABEL] = RUN
    return client.containers.run(
        "busybox", cmd, detach=True, name=name(suffix), labels=labels, **kw
    )


def cleanup():
    for c in client.containers.list(all=True, filters={"label": f"{LABEL}={RUN}"}):
        try:
            c.remove(force=True)
        except errors.NotFound:
            pass


def status_of(err):
    return getattr(err, "status_code", None)


def expect_error(what, status, fn, exc=errors.APIError, contains=None):
    """fn() must raise `exc` with HTTP `status` (and `contains` in the message)."""
    try:
        fn()
    except exc as e:
        eq(status_of(e), status, f"{what}: status")
        if contains is not None:
            check(contains in str(e), f"{what}: {contains!r} not in {str(e)!r}")
        return e
    except Exception as e:  # noqa: BLE001 - any other error is the failure reported
        check(False, f"{what}: raised {type(e).__name__}: {e}, want {exc.__name__} {status}")
        return None
    check(False, f"{what}: no error, want {exc.__name__} {status}")
    return None


def raw(method, path, versioned=True, **kw):
    """A request through docker-py's own session (so transport and headers are its)."""
    url = api._url(path, versioned_api=versioned)
    kw.setdefault("timeout", 30)
    return api.request(method, url, **kw)


def rfc3339(s):
    """Parses dockerd's RFC 3339 with up to nine fraction digits."""
    s = s.replace("Z", "+00:00")
    if "." in s:
        head, rest = s.split(".", 1)
        frac = rest[: len(rest) - 6]
        tz = rest[len(rest) - 6 :]
        s = f"{head}.{(frac + '000000')[:6]}{tz}"
    return datetime.datetime.fromisoformat(s)


# ---------------------------------------------------------------------------------------
# the spec: JSON types and field names of the definitions

SPEC = None
if SPEC_PATH and os.path.exists(SPEC_PATH):
    import yaml

    with open(SPEC_PATH) as f:
        SPEC = yaml.safe_load(f)

# Fields dockerd sends that the 1.50 spec does not list.
NOT_IN_SPEC = {
    # The pre-1.22 event fields, still sent by dockerd for old clients (docker-py 5 and
    # compose 1.x read `status`/`id`).
    ("EventMessage", "status"),
    ("EventMessage", "id"),
    ("EventMessage", "from"),
}


def _resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = SPEC["definitions"][schema["$ref"].split("/")[-1]]
    return schema


def _merged(schema):
    """The schema with its allOf parts folded in (properties merged)."""
    schema = _resolve(schema)
    if not isinstance(schema, dict) or "allOf" not in schema:
        return schema
    out = {k: v for k, v in schema.items() if k != "allOf"}
    props = dict(schema.get("properties", {}))
    for sub in schema["allOf"]:
        sub = _merged(sub)
        props.update(sub.get("properties", {}))
        for k in ("type", "additionalProperties"):
            if k in sub and k not in out:
                out[k] = sub[k]
    out["properties"] = props
    return out


def _schema_problems(value, schema, path, top, out):
    schema = _merged(schema)
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if kind is None and "properties" in schema:
        kind = "object"
    if value is None:
        # Go writes nil slices, maps and pointers as null, where the spec often does not
        # say x-nullable: a null is not checked here (the cases check the fields they
        # need to be set).
        return
    if kind == "object":
        if not isinstance(value, dict):
            out.append(f"{path}: {type(value).__name__}, spec says object")
            return
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for k, v in value.items():
            if k in props:
                _schema_problems(v, props[k], f"{path}.{k}", top, out)
            elif isinstance(extra, dict):
                _schema_problems(v, extra, f"{path}.{k}", top, out)
            elif props and (top, k) not in NOT_IN_SPEC:
                out.append(f"{path}.{k}: not in the spec")
    elif kind == "array":
        if not isinstance(value, list):
            out.append(f"{path}: {type(value).__name__}, spec says array")
            return
        for i, v in enumerate(value):
            _schema_problems(v, schema.get("items", {}), f"{path}[{i}]", top, out)
    elif kind == "string":
        if not isinstance(value, str):
            out.append(f"{path}: {value!r} is not a string")
        elif "enum" in schema and value not in schema["enum"] and value != "":
            out.append(f"{path}: {value!r} not in {schema['enum']}")
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            out.append(f"{path}: {value!r} is not an integer")
    elif kind == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            out.append(f"{path}: {value!r} is not a number")
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"{path}: {value!r} is not a boolean")


def _response_schema(path, method, status="200"):
    op = SPEC["paths"][path][method]
    return op["responses"][int(status)]["schema"] if int(status) in op["responses"] else (
        op["responses"][status]["schema"]
    )


def conforms(value, definition=None, what=None, path=None, method="get", status=200):
    """Checks `value` against a definition (by name) or an endpoint's response schema."""
    if SPEC is None:
        return
    if definition is not None:
        schema = {"$ref": f"#/definitions/{definition}"}
        top = definition
    else:
        schema = _response_schema(path, method, status)
        top = _resolve(schema).get("title", path) if isinstance(schema, dict) else path
        if isinstance(schema, dict) and "$ref" in schema:
            top = schema["$ref"].split("/")[-1]
    out = []
    _schema_problems(value, schema, what or top, top, out)
    for p in out:
        check(False, f"spec: {p}")


def has_keys(obj, keys, what):
    for k in keys:
        check(isinstance(obj, dict) and k in obj, f"{what}: no {k!r} field")


# ---------------------------------------------------------------------------------------
# system


@case("system")
def ping_version_info():
    eq(api.api_version, "1.50", "negotiated API version")
    eq(client.ping(), True, "ping")
    v = client.version()
    conforms(v, "SystemVersion")
    has_keys(v, ["Version", "ApiVersion", "MinAPIVersion", "Os", "Arch", "KernelVersion",
                 "Components", "GitCommit", "GoVersion", "BuildTime"], "version")
    eq(v.get("ApiVersion"), "1.50", "version ApiVersion")
    eq(v.get("Os"), "linux", "version Os")
    info = client.info()
    conforms(info, "SystemInfo")
    has_keys(info, ["ID", "Containers", "ContainersRunning", "ContainersPaused",
                    "ContainersStopped", "Images", "Driver", "DriverStatus", "MemTotal",
                    "NCPU", "KernelVersion", "OperatingSystem", "OSType", "Architecture",
                    "ServerVersion", "DockerRootDir", "CgroupDriver", "CgroupVersion",
                    "Runtimes", "DefaultRuntime", "SecurityOptions", "Name", "Warnings",
                    "Plugins", "RegistryConfig", "Swarm", "LoggingDriver"], "info")
    eq(info.get("OSType"), "linux", "info OSType")
    eq(info.get("Driver"), "overlay2", "info Driver")
    check(isinstance(info.get("NCPU"), int) and info["NCPU"] >= 1, "info NCPU")
    check(isinstance(info.get("MemTotal"), int) and info["MemTotal"] > 0, "info MemTotal")
    # Clients compare Architecture with Go's names (x86_64 is what dockerd reports).
    eq(info.get("Architecture"), os.uname().machine, "info Architecture")


@case("system")
def ping_head_and_headers():
    for path in ["/_ping", "/v1.41/_ping", "/v1.50/_ping"]:
        r = raw("GET", path, versioned=False)
        eq(r.status_code, 200, f"GET {path}")
        eq(r.text, "OK", f"GET {path} body")
        eq(r.headers.get("Api-Version"), "1.50", f"GET {path} Api-Version")
        eq(r.headers.get("OSType"), "linux", f"GET {path} OSType")
        eq(r.headers.get("Docker-Experimental"), "false", f"GET {path} Docker-Experimental")
        eq(r.headers.get("Swarm"), "inactive", f"GET {path} Swarm")
        eq(r.headers.get("Cache-Control"), "no-cache, no-store, must-revalidate",
           f"GET {path} Cache-Control")
        eq(r.headers.get("Pragma"), "no-cache", f"GET {path} Pragma")
    r = raw("HEAD", "/_ping", versioned=False)
    eq(r.status_code, 200, "HEAD /_ping")
    eq(r.content, b"", "HEAD /_ping body")
    eq(r.headers.get("Api-Version"), "1.50", "HEAD /_ping Api-Version")
    # Every response carries Api-Version, errors too.
    r = raw("GET", "/containers/nope/json")
    eq(r.status_code, 404, "unknown container")
    eq(r.headers.get("Api-Version"), "1.50", "404 Api-Version")
    eq(r.headers.get("Content-Type"), "application/json", "404 Content-Type")
    eq(r.json(), {"message": "No such container: nope"}, "404 body")


@case("system")
def networks_volumes_plugins():
    """What berth has until networking and volumes land: the host and none networks, no
    volumes, no plugins; unknown ones are 404s (`docker inspect` relies on it)."""
    nets = client.networks.list()
    eq(sorted(n.name for n in nets), ["host", "none"], "networks")
    for n in api.networks():
        conforms(n, "Network")
    host = client.networks.get("host")
    eq((host.name, host.attrs["Driver"], host.attrs["Scope"]), ("host", "host", "local"),
       "host network")
    eq(client.networks.get(host.id[:12]).name, "host", "network by ID prefix")
    expect_error("unknown network", 404, lambda: client.networks.get(f"nope{RUN}"),
                 exc=errors.NotFound)
    eq(client.volumes.list(), [], "volumes")
    expect_error("unknown volume", 404, lambda: client.volumes.get(f"nope{RUN}"),
                 exc=errors.NotFound)
    eq(client.plugins.list(), [], "plugins")
    expect_error("unknown plugin", 404, lambda: client.plugins.get(f"nope{RUN}"),
                 exc=errors.NotFound)
    r = raw("GET", "/swarm")
    eq(r.status_code, 503, "swarm outside a swarm")
    check("not a swarm manager" in r.json().get("message", ""), r.text)


@case("system")
def version_prefixes_and_negotiation():
    for minor in range(41, 51):
        v = f"1.{minor}"
        c = docker.APIClient(base_url=HOST, version=v, timeout=30)
        try:
            eq(c.api_version, v, "pinned version")
            eq(c.version()["ApiVersion"], "1.50", f"/v{v}/version")
            check(isinstance(c.containers(all=True), list), f"/v{v}/containers/json")
            check(isinstance(c.images(), list), f"/v{v}/images/json")
            r = c.get(c._url("/info"))
            eq(r.status_code, 200, f"/v{v}/info")
        finally:
            c.close()
    # The lowest version dockerd accepts, and one below.
    r = raw("GET", "/v1.24/version", versioned=False)
    eq(r.status_code, 200, "/v1.24/version")
    old = docker.APIClient(base_url=HOST, version="1.23", timeout=30)
    try:
        expect_error("/v1.23 (too old)", 400, old.version, contains="too old")
    finally:
        old.close()
    r = raw("GET", "/v1.51/version", versioned=False)
    eq(r.status_code, 400, "/v1.51 (too new)")
    check("too new" in r.json().get("message", ""), "too new message")
    # Unversioned paths are served at the newest version.
    eq(raw("GET", "/version", versioned=False).status_code, 200, "unversioned /version")
    # auto negotiation: docker-py reads ApiVersion of /version.
    eq(docker.APIClient(base_url=HOST, version="auto").api_version, "1.50", "auto")


# ---------------------------------------------------------------------------------------
# images


def import_busybox_as(repo, tag, changes=None):
    out = api.import_image_from_file(BUSYBOX_TAR, repository=repo, tag=tag, changes=changes)
    line = json.loads(out.strip().splitlines()[-1])
    check(line.get("status", "").startswith("sha256:"), f"import status line {out!r}")
    return line.get("status")


@case("images")
def images_import_list_get():
    repo = f"pyimg{RUN}"
    image_id = import_busybox_as(
        repo, "1",
        changes=['CMD ["/bin/sh", "-c", "echo from-cmd"]', "ENV A=b", "WORKDIR /tmp",
                 f"LABEL compat={RUN}", "USER nobody"],
    )
    img = client.images.get(f"{repo}:1")
    eq(img.id, image_id, "image id")
    check(f"{repo}:1" in img.tags, f"tags {img.tags}")
    conforms(img.attrs, "ImageInspect")
    cfg = img.attrs["Config"]
    eq(cfg.get("Cmd"), ["/bin/sh", "-c", "echo from-cmd"], "Config.Cmd")
    check("A=b" in (cfg.get("Env") or []), f"Config.Env {cfg.get('Env')}")
    eq(cfg.get("WorkingDir"), "/tmp", "Config.WorkingDir")
    eq(cfg.get("User"), "nobody", "Config.User")
    eq((cfg.get("Labels") or {}).get("compat"), RUN, "Config.Labels")
    eq(img.attrs.get("Os"), "linux", "Os")
    check(img.attrs.get("RootFS", {}).get("Type") == "layers", "RootFS.Type")
    check(len(img.attrs.get("RootFS", {}).get("Layers", [])) == 1, "RootFS.Layers")
    eq(img.labels, {"compat": RUN}, "image.labels")
    # Data import (the body in memory, no repo: an untagged image).
    with open(BUSYBOX_TAR, "rb") as f:
        data = f.read()
    out = api.import_image_from_data(data, repository=f"{repo}data", tag="x")
    check("sha256:" in out, f"import_image_from_data: {out!r}")
    check(f"{repo}data:x" in client.images.get(f"{repo}data:x").tags, "data import tag")
    # The image runs with its config.
    out = client.containers.run(f"{repo}:1", remove=True)
    eq(out, b"from-cmd\n", "run with the imported Cmd")
    # Lists.
    listed = client.images.list()
    for item in api.images():
        conforms(item, "ImageSummary")
    tags = [t for i in listed for t in i.tags]
    check(f"{repo}:1" in tags and "busybox:latest" in tags, f"images.list tags {tags}")
    eq([i.id for i in client.images.list(name=repo)], [image_id], "images.list(name=)")
    eq([i.id for i in client.images.list(filters={"reference": f"{repo}:*"})], [image_id],
       "reference filter")
    eq([i.id for i in client.images.list(filters={"label": f"compat={RUN}"})], [image_id],
       "label filter")
    eq(client.images.list(filters={"dangling": True}), [], "dangling filter")
    check(all(isinstance(i, str) for i in api.images(quiet=True)), "images(quiet=True)")
    expect_error("images filter", 400, lambda: api.images(filters={"bogus": "x"}))


@case("images")
def images_tag_history_remove():
    repo = f"pytag{RUN}"
    image_id = import_busybox_as(repo, "1", changes=["CMD sh"])
    img = client.images.get(image_id)
    eq(img.tag(repo, "two"), True, "image.tag")
    eq(img.tag(f"{repo}-other"), True, "image.tag without a tag")
    img.reload()
    for t in [f"{repo}:1", f"{repo}:two", f"{repo}-other:latest"]:
        check(t in img.tags, f"{t} in {img.tags}")
    eq(client.images.get(f"{repo}:two").id, image_id, "tagged image id")
    hist = img.history()
    check(isinstance(hist, list) and len(hist) >= 1, f"history {hist}")
    for h in hist:
        conforms(h, "ImageHistoryResponseItem")
        has_keys(h, ["Id", "Created", "CreatedBy", "Tags", "Size", "Comment"], "history")
    eq(hist[0]["Id"], image_id, "history[0].Id")
    check(f"{repo}:1" in (hist[0]["Tags"] or []), f"history tags {hist[0]['Tags']}")
    # Remove: untag one name, then refuse while a container uses it, then force.
    res = api.remove_image(f"{repo}:two")
    eq(res, [{"Untagged": f"{repo}:two"}], "remove one tag")
    expect_error("get a removed tag", 404, lambda: client.images.get(f"{repo}:two"),
                 exc=errors.ImageNotFound)
    c = client.containers.create(f"{repo}:1", ["sleep", "1000"], name=name("imguse"),
                                 labels={LABEL: RUN})
    expect_error("remove an image in use", 409, lambda: client.images.remove(image_id))
    c.remove(force=True)
    res = api.remove_image(image_id, force=True)
    check(any("Deleted" in r for r in res), f"forced removal {res}")
    untagged = sorted(r["Untagged"] for r in res if "Untagged" in r)
    eq(untagged, sorted([f"{repo}:1", f"{repo}-other:latest"]), "untagged names")
    for r in res:
        conforms(r, "ImageDeleteResponseItem")
    expect_error("inspect a removed image", 404, lambda: client.images.get(image_id),
                 exc=errors.ImageNotFound)
    expect_error("tag an unknown image", 404, lambda: api.tag(f"nope{RUN}:1", "x"))
    expect_error("history of an unknown image", 404,
                 lambda: api.history(f"nope{RUN}:1"))
    expect_error("remove an unknown image", 404, lambda: api.remove_image(f"nope{RUN}:1"))
    expect_error("tag with an invalid name", 400, lambda: api.tag("busybox", "UPPER"))


# ---------------------------------------------------------------------------------------
# containers: run and configuration


@case("run")
def run_foreground_outputs():
    before = {c.id for c in client.containers.list(all=True)}
    out = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"],
                                stdout=True, stderr=True, remove=True)
    eq(sorted(out.splitlines()), [b"err", b"out"], "stdout+stderr")
    out = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"],
                                stdout=False, stderr=True, remove=True)
    eq(out, b"err\n", "stderr only")
    out = client.containers.run("busybox", "echo plain", remove=True)
    eq(out, b"plain\n", "stdout only (default)")
    try:
        client.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 3"], remove=True)
        check(False, "no ContainerError for exit 3")
    except errors.ContainerError as e:
        eq(e.exit_status, 3, "ContainerError.exit_status")
        eq(e.stderr, b"bad\n", "ContainerError.stderr")
    # stream=True gives a generator of the output.
    gen = client.containers.run("busybox", ["sh", "-c", "echo a; echo b"], stream=True,
                                remove=True)
    eq(b"".join(gen), b"a\nb\n", "run(stream=True)")
    # No leftover containers from remove=True.
    wait_until("remove=True containers gone",
               lambda: {c.id for c in client.containers.list(all=True)} <= before)


def cgroup_file(cid, controller, fname):
    base = "/sys/fs/cgroup"
    if os.path.exists(f"{base}/cgroup.controllers"):
        path = f"{base}/berth/{cid}/{fname}"
    else:
        path = f"{base}/{controller}/berth/{cid}/{fname}"
    with open(path) as f:
        return f.read().strip()


def cgroup_v2():
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


@case("run")
def run_detached_with_config():
    c = run_bg(
        ["sh", "-c", "echo FOO=$FOO; pwd; id -u; id -g; hostname; ulimit -n; sleep 1000"],
        "cfg",
        environment={"FOO": "bar"},
        working_dir="/tmp",
        user="1000:1000",
        labels={"compat": "yes", "color": "blue"},
        mem_limit="64m",
        nano_cpus=500_000_000,
        pids_limit=50,
        ulimits=[docker.types.Ulimit(name="nofile", soft=1000, hard=2000)],
        network_mode="none",
        hostname="pyhost",
    )
    wait_until("config output", lambda: c.logs().count(b"\n") >= 6)
    lines = c.logs().decode().splitlines()
    eq(lines, ["FOO=bar", "/tmp", "1000", "1000", "pyhost", "1000"], "container output")
    c.reload()
    a = c.attrs
    conforms(a, "ContainerInspectResponse")
    hc = a["HostConfig"]
    eq(hc.get("Memory"), 64 << 20, "HostConfig.Memory")
    eq(hc.get("NanoCpus"), 500_000_000, "HostConfig.NanoCpus")
    eq(hc.get("PidsLimit"), 50, "HostConfig.PidsLimit")
    eq(hc.get("Ulimits"), [{"Name": "nofile", "Soft": 1000, "Hard": 2000}], "Ulimits")
    eq(hc.get("NetworkMode"), "none", "HostConfig.NetworkMode")
    eq(hc.get("LogConfig", {}).get("Type"), "json-file", "HostConfig.LogConfig")
    cfg = a["Config"]
    check("FOO=bar" in cfg.get("Env", []), f"Config.Env {cfg.get('Env')}")
    eq(cfg.get("WorkingDir"), "/tmp", "Config.WorkingDir")
    eq(cfg.get("User"), "1000:1000", "Config.User")
    eq(cfg.get("Hostname"), "pyhost", "Config.Hostname")
    eq(cfg.get("Image"), "busybox", "Config.Image")
    eq(c.labels.get("compat"), "yes", "labels")
    eq(c.labels.get("color"), "blue", "labels")
    eq(c.name, name("cfg"), "name")
    eq(c.image.tags, ["busybox:latest"], "container.image")
    # The limits reached the container's cgroup.
    if cgroup_v2():
        eq(cgroup_file(c.id, "memory", "memory.max"), str(64 << 20), "memory.max")
        eq(cgroup_file(c.id, "cpu", "cpu.max"), "50000 100000", "cpu.max")
    else:
        eq(cgroup_file(c.id, "memory", "memory.limit_in_bytes"), str(64 << 20),
           "memory.limit_in_bytes")
        eq(cgroup_file(c.id, "cpu", "cpu.cfs_quota_us"), "50000", "cpu.cfs_quota_us")
    eq(cgroup_file(c.id, "pids", "pids.max"), "50", "pids.max")
    c.remove(force=True)


@case("run")
def run_network_modes_and_init():
    def ifaces(out):
        return sorted(l.split(":")[0].strip() for l in out.decode().splitlines()[2:])

    out = client.containers.run("busybox", "cat /proc/net/dev", network_mode="none",
                                remove=True)
    eq(ifaces(out), ["lo"], "network none: interfaces")
    with open("/proc/net/dev", "rb") as f:
        host = ifaces(f.read())
    out = client.containers.run("busybox", "cat /proc/net/dev", network_mode="host",
                                remove=True)
    eq(ifaces(out), host, "network host: the host's interfaces")
    # Without --init the command is PID 1; with it, an init is.
    out = client.containers.run("busybox", ["sh", "-c", "cat /proc/1/comm; true"],
                                remove=True)
    eq(out, b"sh\n", "pid 1 without init")
    c = run_bg(["sleep", "1000"], "init", init=True)
    c.reload()
    eq(c.attrs["HostConfig"].get("Init"), True, "HostConfig.Init")
    r = c.exec_run(["cat", "/proc/1/comm"])
    check(r.output.strip() != b"sleep", f"pid 1 with init is {r.output!r}")
    r = c.exec_run(["sh", "-c", "ps -o pid,comm | grep -w sleep"])
    check(b"sleep" in r.output, f"sleep runs under init: {r.output!r}")
    t0 = time.time()
    c.stop(timeout=10)
    # An init forwards SIGTERM, so sleep ends at once rather than after the timeout.
    check(time.time() - t0 < 5, f"stop with init took {time.time() - t0:.1f}s")
    c.reload()
    eq(c.attrs["State"]["ExitCode"], 143, "exit code after SIGTERM via init")
    c.remove()


@case("run")
def run_mounts_dns_sysctls():
    import shutil
    import tempfile
    from docker.types import Mount

    src = tempfile.mkdtemp(prefix=f"berth-py{RUN}-")
    try:
        with open(os.path.join(src, "host-file"), "w") as f:
            f.write("from the host\n")
        c = run_bg(["sleep", "1000"], "mounts", mounts=[
            Mount("/data", src, type="bind", read_only=True),
            Mount("/rw", src, type="bind"),
            Mount("/scratch", None, type="tmpfs", tmpfs_size=1 << 20, tmpfs_mode=0o700),
        ], dns=["192.0.2.53"], dns_search=["example.test"], dns_opt=["ndots:3"],
            sysctls={"net.ipv4.ip_forward": "1"}, oom_score_adj=500)
        eq(c.exec_run(["cat", "/data/host-file"]).output, b"from the host\n", "bind mount")
        r = c.exec_run(["touch", "/data/x"])
        check(r.exit_code != 0 and b"Read-only" in r.output, f"read-only bind: {r.output!r}")
        eq(c.exec_run(["sh", "-c", "echo back > /rw/from-container"]).exit_code, 0,
           "write through a bind")
        with open(os.path.join(src, "from-container")) as f:
            eq(f.read(), "back\n", "written through the bind")
        out = c.exec_run(["sh", "-c", "grep ' /scratch ' /proc/mounts"]).output.decode()
        check("tmpfs" in out and "size=1024k" in out and "mode=700" in out,
              f"tmpfs mount: {out!r}")
        resolv = c.exec_run(["cat", "/etc/resolv.conf"]).output.decode()
        for line in ["nameserver 192.0.2.53", "search example.test", "options ndots:3"]:
            check(line in resolv.splitlines(), f"{line!r} in resolv.conf {resolv!r}")
        eq(c.exec_run(["cat", "/proc/sys/net/ipv4/ip_forward"]).output, b"1\n", "sysctl")
        eq(c.exec_run(["cat", "/proc/1/oom_score_adj"]).output, b"500\n", "oom_score_adj")
        c.reload()
        mounts = sorted((m["Type"], m["Destination"], m["RW"]) for m in c.attrs["Mounts"])
        eq(mounts, [("bind", "/data", False), ("bind", "/rw", True),
                    ("tmpfs", "/scratch", True)], "inspect Mounts")
        for m in c.attrs["Mounts"]:
            conforms(m, "MountPoint")
        eq(c.attrs["HostConfig"]["OomScoreAdj"], 500, "HostConfig.OomScoreAdj")
        c.remove(force=True)
    finally:
        shutil.rmtree(src, ignore_errors=True)
    # Settings berth does not apply yet come back as warnings, like dockerd's.
    r = api.create_container("busybox", "true", name=name("warn"), labels={LABEL: RUN},
                             host_config=api.create_host_config(blkio_weight=300))
    check(any("discarded" in w for w in r.get("Warnings") or []), f"warnings {r}")
    # What berth cannot do yet is a 501, what nobody can do a 400.
    create = client.containers.create
    expect_error("volume mount", 501, lambda: create(
        "busybox", "true", mounts=[Mount("/v", f"vol{RUN}", type="volume")]))
    expect_error("bind of a missing path", 400, lambda: create(
        "busybox", "true", mounts=[Mount("/v", f"/nonexistent-{RUN}", type="bind")]))
    expect_error("pid host", 501, lambda: create("busybox", "true", pid_mode="host"))
    expect_error("ipc bogus", 400, lambda: create("busybox", "true", ipc_mode="bogus"))
    expect_error("devices", 501, lambda: create("busybox", "true", devices=["/dev/null"]))
    expect_error("log driver syslog", 501, lambda: create(
        "busybox", "true", log_config=docker.types.LogConfig(type="syslog")))
    expect_error("log driver bogus", 400, lambda: create(
        "busybox", "true", log_config=docker.types.LogConfig(type="bogus")))
    expect_error("relative tmpfs", 400, lambda: create("busybox", "true", tmpfs={"t": ""}))
    expect_error("bad cpuset", 400, lambda: create("busybox", "true", cpuset_cpus="99"))
    expect_error("relative working dir", 400,
                 lambda: create("busybox", "true", working_dir="tmp"))
    expect_error("sysctl outside a namespace", 400,
                 lambda: create("busybox", "true", sysctls={"vm.swappiness": "1"}))
    expect_error("oom_score_adj out of range", 400,
                 lambda: create("busybox", "true", oom_score_adj=1001))
    expect_error("exposed port", 400, lambda: create("busybox", "true", ports={"x/tcp": None}))


@case("run")
def run_auto_remove():
    c = run_bg(["sh", "-c", "sleep 0.2"], "autorm", auto_remove=True)
    eq(c.attrs["HostConfig"].get("AutoRemove"), True, "HostConfig.AutoRemove")
    wait_until("the auto-removed container is gone",
               lambda: expect_gone(c.id))
    # docker-py's remove=True with detach=False.
    out = client.containers.run("busybox", "echo bye", name=name("rmfg"), remove=True)
    eq(out, b"bye\n", "remove=True output")
    expect_error("get a removed container", 404, lambda: client.containers.get(name("rmfg")),
                 exc=errors.NotFound)


def expect_gone(cid):
    try:
        client.containers.get(cid)
        return False
    except errors.NotFound:
        return True


@case("run")
def oom_killed():
    c = run_bg(["sh", "-c", "head -c 200m /dev/zero | tail"], "oom", mem_limit="16m",
               memswap_limit="16m")
    res = c.wait(timeout=60)
    c.reload()
    st = c.attrs["State"]
    eq(res["StatusCode"], 137, "OOM-killed exit code")
    eq(st["OOMKilled"], True, "State.OOMKilled")
    c.remove()


# ---------------------------------------------------------------------------------------
# containers: inspect, list, lifecycle


@case("lifecycle")
def inspect_fields():
    c = run_bg(["sh", "-c", "echo hi; sleep 1000"], "insp", environment={"K": "v"})
    c.reload()
    a = c.attrs
    conforms(a, "ContainerInspectResponse")
    has_keys(a, ["Id", "Created", "Path", "Args", "State", "Image", "ResolvConfPath",
                 "HostnamePath", "HostsPath", "LogPath", "Name", "RestartCount", "Driver",
                 "Platform", "MountLabel", "ProcessLabel", "AppArmorProfile", "ExecIDs",
                 "HostConfig", "GraphDriver", "Mounts", "Config", "NetworkSettings"],
             "inspect")
    st = a["State"]
    has_keys(st, ["Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead", "Pid",
                  "ExitCode", "Error", "StartedAt", "FinishedAt"], "State")
    eq(st["Status"], "running", "State.Status")
    eq(c.status, "running", "container.status")
    eq(st["Running"], True, "State.Running")
    eq(st["OOMKilled"], False, "State.OOMKilled")
    check(st["Pid"] > 0 and os.path.exists(f"/proc/{st['Pid']}"), f"State.Pid {st['Pid']}")
    started = rfc3339(st["StartedAt"])
    check(abs((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()) < 60,
          f"StartedAt {st['StartedAt']}")
    eq(st["FinishedAt"], "0001-01-01T00:00:00Z", "FinishedAt before the first exit")
    eq(a["Path"], "sh", "Path")
    eq(a["Args"], ["-c", "echo hi; sleep 1000"], "Args")
    check(a["Image"].startswith("sha256:"), f"Image {a['Image']}")
    eq(a["Name"], "/" + name("insp"), "Name")
    eq(a["Driver"], "overlay2", "Driver")
    eq(a["Mounts"], [], "Mounts")
    gd = a["GraphDriver"]
    eq(gd.get("Name"), "overlay2", "GraphDriver.Name")
    data = gd.get("Data") or {}
    has_keys(data, ["LowerDir", "UpperDir", "MergedDir", "WorkDir"], "GraphDriver.Data")
    for k in ["UpperDir", "WorkDir"]:
        check(os.path.isdir(data.get(k, "")), f"GraphDriver.Data.{k} {data.get(k)} exists")
    for lower in data.get("LowerDir", "").split(":"):
        check(os.path.isdir(lower), f"LowerDir {lower} exists")
    with open("/proc/mounts") as f:
        mounted = [l.split()[1] for l in f]
    check(data.get("MergedDir") in mounted, "MergedDir is mounted while running")
    check(os.path.exists(os.path.join(data.get("MergedDir", ""), "bin/busybox")),
          "MergedDir holds the rootfs")
    check(os.path.exists(a["LogPath"]), "LogPath exists")
    check("K=v" in a["Config"]["Env"], "Config.Env")
    eq(a["Config"]["Cmd"], ["sh", "-c", "echo hi; sleep 1000"], "Config.Cmd")
    # docker-py sends "default"; dockerd keeps what the client sent.
    eq(a["HostConfig"]["NetworkMode"], "default", "HostConfig.NetworkMode (default)")
    # Size fields on request.
    sized = raw("GET", f"/containers/{c.id}/json", params={"size": 1}).json()
    check(isinstance(sized.get("SizeRw"), int) and isinstance(sized.get("SizeRootFs"), int),
          "SizeRw/SizeRootFs with size=1")
    check("SizeRw" not in a, "no SizeRw without size=1")
    # Exited.
    c.kill()
    c.wait()
    c.reload()
    st = c.attrs["State"]
    eq(st["Status"], "exited", "State.Status after kill")
    eq(st["ExitCode"], 137, "ExitCode after SIGKILL")
    eq(st["Pid"], 0, "Pid after exit")
    eq(st["Running"], False, "Running after exit")
    finished = rfc3339(st["FinishedAt"])
    check(finished >= started, f"FinishedAt {st['FinishedAt']} >= StartedAt")
    with open("/proc/mounts") as f:
        mounted = [l.split()[1] for l in f]
    check(data.get("MergedDir") not in mounted, "MergedDir unmounted after exit")
    conforms(c.attrs, "ContainerInspectResponse")
    # Created, never started.
    cr = client.containers.create("busybox", "true", name=name("created"),
                                  labels={LABEL: RUN})
    st = cr.attrs["State"]
    eq(st["Status"], "created", "created: Status")
    eq(st["StartedAt"], "0001-01-01T00:00:00Z", "created: StartedAt")
    eq(st["Pid"], 0, "created: Pid")


@case("lifecycle")
def list_filters():
    base = {"run": RUN}
    running = run_bg(["sleep", "1000"], "lsrun", labels={**base, "role": "web"})
    exited3 = run_bg(["sh", "-c", "exit 3"], "lsexit3", labels={**base, "role": "job"})
    exited0 = run_bg(["true"], "lsexit0", labels={**base, "role": "job"})
    created = client.containers.create("busybox", "true", name=name("lscreated"),
                                       labels={LABEL: RUN, **base, "role": "new"})
    exited3.wait()
    exited0.wait()
    mine = {"label": f"run={RUN}"}

    def ids(**kw):
        filters = {**mine, **kw.pop("filters", {})}
        return sorted(c.id for c in client.containers.list(filters=filters, **kw))

    eq(ids(), [running.id], "default: running only")
    eq(ids(all=True), sorted([running.id, exited3.id, exited0.id, created.id]), "all")
    eq(ids(filters={"status": "exited"}), sorted([exited3.id, exited0.id]), "status=exited")
    eq(ids(filters={"status": "created"}), [created.id], "status=created")
    eq(ids(filters={"status": ["running", "created"]}), sorted([running.id, created.id]),
       "status=running,created")
    eq(ids(filters={"exited": 3}), [exited3.id], "exited=3")
    eq(ids(filters={"exited": 0}), [exited0.id], "exited=0")
    eq(ids(all=True, filters={"label": "role=job"}), sorted([exited3.id, exited0.id]),
       "label=role=job")
    eq(ids(all=True, filters={"label": ["role=job", "role"]}),
       sorted([exited3.id, exited0.id]), "two labels (AND)")
    eq(ids(all=True, filters={"name": name("lsrun")}), [running.id], "name")
    eq(ids(all=True, filters={"name": "/" + name("lsexit")}), sorted([exited3.id, exited0.id]),
       "name substring with a slash")
    eq(ids(all=True, filters={"id": running.id[:12]}), [running.id], "id prefix")
    eq(ids(all=True, filters={"ancestor": "busybox"}),
       sorted([running.id, exited3.id, exited0.id, created.id]), "ancestor=busybox")
    eq(ids(all=True, filters={"ancestor": running.image.id}),
       sorted([running.id, exited3.id, exited0.id, created.id]), "ancestor=<image id>")
    eq(ids(all=True, filters={"ancestor": f"nope{RUN}"}), [], "ancestor unknown")
    lim = api.containers(all=True, limit=1, filters=mine)
    eq([c["Id"] for c in lim], [created.id], "limit=1: the newest")
    eq(len(client.containers.list(all=True, limit=2, filters=mine)), 2, "limit=2")
    eq([c["Id"] for c in api.containers(all=True, since=exited3.id, filters=mine)],
       [created.id, exited0.id], "since")
    eq([c["Id"] for c in api.containers(all=True, before=exited0.id, filters=mine)],
       [exited3.id, running.id], "before")
    eq(sorted(c["Id"] for c in api.containers(all=True, quiet=True, filters=mine)),
       sorted([running.id, exited3.id, exited0.id, created.id]), "quiet")
    # The list items.
    items = api.containers(all=True, filters=mine, size=True)
    for item in items:
        conforms(item, "ContainerSummary")
        has_keys(item, ["Id", "Names", "Image", "ImageID", "Command", "Created", "Ports",
                        "Labels", "State", "Status", "HostConfig", "NetworkSettings",
                        "Mounts", "SizeRw", "SizeRootFs"], "list item")
    by_id = {i["Id"]: i for i in items}
    eq(by_id[running.id]["State"], "running", "list State")
    check(by_id[running.id]["Status"].startswith("Up "), "list Status Up")
    check(by_id[exited3.id]["Status"].startswith("Exited (3) "), "list Status Exited (3)")
    eq(by_id[created.id]["Status"], "Created", "list Status Created")
    eq(by_id[running.id]["Names"], ["/" + name("lsrun")], "list Names")
    eq(by_id[running.id]["Command"], "sleep 1000", "list Command")
    eq(by_id[running.id]["Image"], "busybox", "list Image")
    # Sparse and full models.
    eq([c.attrs["Names"] for c in client.containers.list(filters={**mine, "id": running.id},
                                                         sparse=True)],
       [["/" + name("lsrun")]], "sparse")
    expect_error("bad filter", 400, lambda: client.containers.list(filters={"bogus": "x"}))
    expect_error("bad status", 400,
                 lambda: client.containers.list(filters={"status": "sleeping"}))


@case("lifecycle")
def stop_kill_restart_pause_rename_remove():
    c = run_bg(["sh", "-c",
                "trap 'echo got-usr1' USR1; echo ready; while true; do sleep 0.1; done"],
               "life")
    # USR1 before the trap is set would kill the shell.
    wait_until("the trap is set", lambda: b"ready" in c.logs())
    c.kill(signal="SIGUSR1")
    wait_until("USR1 handled", lambda: b"got-usr1" in c.logs())
    c.kill(signal=10)
    wait_until("USR1 (as a number) handled", lambda: c.logs().count(b"got-usr1") == 2)
    expect_error("kill with a bad signal", 400, lambda: c.kill(signal="SIGNOPE"))
    # pause / unpause
    c.pause()
    c.reload()
    eq((c.status, c.attrs["State"]["Paused"], c.attrs["State"]["Running"]),
       ("paused", True, True), "paused state")
    expect_error("pause twice", 409, c.pause)
    expect_error("exec in a paused container", 409, lambda: c.exec_run("true"))
    expect_error("remove a paused container", 409, c.remove)
    c.unpause()
    c.reload()
    eq((c.status, c.attrs["State"]["Paused"]), ("running", False), "unpaused")
    expect_error("unpause a running container", 409, c.unpause)
    # restart: a new process, a new StartedAt.
    pid, started = c.attrs["State"]["Pid"], c.attrs["State"]["StartedAt"]
    c.restart(timeout=1)
    c.reload()
    eq(c.status, "running", "status after restart")
    check(c.attrs["State"]["Pid"] != pid, "a new pid after restart")
    check(c.attrs["State"]["StartedAt"] != started, "a new StartedAt after restart")
    # rename
    c.rename(name("renamed"))
    c.reload()
    eq(c.name, name("renamed"), "renamed")
    eq(client.containers.get(name("renamed")).id, c.id, "get by the new name")
    expect_error("get by the old name", 404, lambda: client.containers.get(name("life")),
                 exc=errors.NotFound)
    other = client.containers.create("busybox", "true", name=name("other"),
                                     labels={LABEL: RUN})
    expect_error("rename to a name in use", 409, lambda: c.rename(name("other")))
    expect_error("rename to an invalid name", 400, lambda: c.rename("bad name!"))
    # stop (the shell ignores SIGTERM as PID 1: killed after the timeout)
    t0 = time.time()
    c.stop(timeout=1)
    check(time.time() - t0 < 8, f"stop -t 1 took {time.time() - t0:.1f}s")
    c.reload()
    eq((c.status, c.attrs["State"]["ExitCode"]), ("exited", 137), "stopped")
    # remove: refused while running, forced, v.
    r = run_bg(["sleep", "1000"], "rmrun")
    e = expect_error("remove a running container", 409, r.remove)
    if e is not None:
        check("stop the container before removing or force remove" in str(e), str(e))
    r.remove(force=True, v=True)
    check(expect_gone(r.id), "force-removed")
    c.remove(v=True)
    other.remove()
    check(expect_gone(c.id) and expect_gone(other.id), "removed")
    expect_error("remove twice", 404, c.remove, exc=errors.NotFound)


@case("lifecycle")
def wait_conditions():
    c = run_bg(["sh", "-c", "sleep 0.3; exit 5"], "wait")
    res = c.wait(timeout=30)
    eq(res, {"StatusCode": 5}, "wait (dockerd omits an empty Error)")
    conforms(res, path="/containers/{id}/wait", method="post")
    eq(c.wait(condition="not-running")["StatusCode"], 5, "not-running on an exited one")
    # next-exit waits for the coming exit, even of a stopped container. The daemon answers
    # the head at once and the body at the exit: once the head is in, the wait is set.
    w = Waiter(c.id, "next-exit")
    check(not w.answered(), "next-exit answered before the next exit")
    c.start()
    eq(w.result(), {"StatusCode": 5}, "next-exit")
    # removed waits for the removal.
    r = run_bg(["sleep", "1000"], "waitrm")
    w = Waiter(r.id, "removed")
    check(not w.answered(), "removed answered before the removal")
    r.remove(force=True)
    eq(w.result(), {"StatusCode": 137}, "removed")
    # docker-py's own call, from another thread.
    box = {}
    n = run_bg(["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 3"], "waitpy")
    t = threading.Thread(target=lambda: box.update(r=n.wait(timeout=30)))
    t.start()
    n.exec_run(["touch", "/tmp/go"])
    t.join(30)
    eq(box.get("r"), {"StatusCode": 3}, "wait from a thread")
    expect_error("bad condition", 400, lambda: c.wait(condition="bogus"))
    # A client-side timeout on a running container.
    s = run_bg(["sleep", "1000"], "waitto")
    try:
        s.wait(timeout=0.5)
        check(False, "wait returned while running")
    except requests.exceptions.ConnectionError:
        pass
    except requests.exceptions.ReadTimeout:
        pass
    s.remove(force=True)


@case("lifecycle")
def top_export_resize():
    c = run_bg(["sh", "-c", "echo data > /tmp/made-here; sleep 1000"], "top")
    top = c.top()
    conforms(top, "ContainerTopResponse")
    check("PID" in top["Titles"] and "CMD" in top["Titles"], f"top titles {top['Titles']}")
    cmds = [p[-1] for p in top["Processes"]]
    check(any("sleep 1000" in x for x in cmds), f"top processes {cmds}")
    aux = c.top(ps_args="aux")
    check("USER" in aux["Titles"] and "%CPU" in aux["Titles"], f"top aux {aux['Titles']}")
    wait_until("file written", lambda: c.exec_run("cat /tmp/made-here").output == b"data\n")
    buf = io.BytesIO()
    for chunk in c.export(chunk_size=65536):
        buf.write(chunk)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        names = tar.getnames()
        check(any(n.rstrip("/").endswith("bin/busybox") for n in names), "export busybox")
        made = [m for m in tar.getmembers() if m.name.lstrip("./") == "tmp/made-here"]
        check(len(made) == 1 and tar.extractfile(made[0]).read() == b"data\n",
              "export holds the container's own file")
    # resize: the tty of a tty container; 409 for a stopped one.
    t = run_bg(["sh", "-c", "sleep 1000"], "tty", tty=True, stdin_open=True)
    t.resize(height=40, width=100)
    r = t.exec_run(["sh", "-c", "stty size </dev/console"])
    eq(r.output.strip(), b"40 100", "size after resize")
    expect_error("resize with a bad height", 400,
                 lambda: raw_status("POST", f"/containers/{t.id}/resize",
                                    params={"h": "x", "w": 1}))
    c.kill()
    c.wait()
    expect_error("resize a stopped container", 409, lambda: c.resize(10, 10))
    expect_error("top of a stopped container", 409, c.top)
    # Export of a stopped container works too (its rootfs is mounted for the time).
    size = sum(len(x) for x in c.export())
    check(size > 1 << 20, f"export of a stopped container: {size} bytes")


class Waiter:
    """POST /containers/{id}/wait on a raw socket, made once the head is in: the daemon
    sets the wait up before it answers the head, and sends the body at the exit."""

    def __init__(self, cid, condition):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(30)
        self.sock.connect(HOST[len("unix://"):])
        self.sock.sendall(
            f"POST /v1.50/containers/{cid}/wait?condition={condition} HTTP/1.1\r\n"
            "Host: docker\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise CaseFailed(f"wait: connection closed after {data!r}")
            data += chunk
        head, _, self.rest = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise CaseFailed(f"wait: {head!r}")

    def answered(self):
        """Whether body bytes come without waiting (a premature answer)."""
        if self.rest:
            return True
        self.sock.settimeout(0.2)
        try:
            chunk = self.sock.recv(4096)
            self.rest += chunk
            return bool(chunk)
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(30)

    def result(self):
        data = self.rest
        while True:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        self.sock.close()
        body = b""
        while data:  # de-chunk
            size, _, data = data.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            body, data = body + data[:n], data[n + 2:]
        return json.loads(body)


def raw_socket(request_line, body=b""):
    """Sends one request as typed (no client-side URL clean-up); returns the status, the
    lowercased head and the body."""
    path = HOST[len("unix://"):]
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(15)
    s.connect(path)
    s.sendall(request_line.encode() + b"\r\nHost: docker\r\nConnection: close\r\n"
              + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, head.decode("latin-1").lower(), rest


def raw_status(method, path, **kw):
    r = raw(method, path, **kw)
    api._raise_for_status(r)
    return r


# ---------------------------------------------------------------------------------------
# logs, attach, exec


@case("streams")
def logs_options():
    c = run_bg(["sh", "-c",
                "echo early; echo early-err >&2; "
                "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo late; sleep 1000"],
               "logs")
    wait_until("early lines", lambda: c.logs().count(b"\n") == 2)
    time.sleep(0.05)
    mid = time.time()
    time.sleep(0.05)
    c.exec_run("touch /tmp/go")
    wait_until("late line", lambda: b"late" in c.logs())
    eq(c.logs(stderr=False), b"early\nlate\n", "stdout only")
    eq(c.logs(stdout=False, stderr=True), b"early-err\n", "stderr only")
    eq(c.logs(tail=1), b"late\n", "tail=1")
    eq(c.logs(tail=0), b"", "tail=0")
    eq(c.logs(tail="all").count(b"\n"), 3, "tail=all")
    # docker-py 5 sends whole seconds; the API takes fractions too.
    eq(c.logs(since=int(mid) - 5), c.logs(), "since (int) before everything")
    eq(c.logs(since=datetime.datetime.utcfromtimestamp(mid + 3600)), b"", "since later")
    r = raw_status("GET", f"/containers/{c.id}/logs",
                   params={"stdout": 1, "stderr": 1, "since": f"{mid:.9f}"})
    eq(r.content, b"\x01\0\0\0\0\0\0\x05late\n", "since with a fraction")
    r = raw_status("GET", f"/containers/{c.id}/logs",
                   params={"stdout": 1, "until": f"{mid:.6f}"})
    eq(r.content, b"\x01\0\0\0\0\0\0\x06early\n", "until with a fraction")
    eq(c.logs(until=int(mid) - 100), b"", "until before everything")
    eq(c.logs(until=datetime.datetime.utcfromtimestamp(mid + 3600)), c.logs(), "until later")
    ts = c.logs(timestamps=True, stderr=False).decode().splitlines()
    eq(len(ts), 2, "timestamped lines")
    for line in ts:
        stamp, _, text = line.partition(" ")
        check(text in ("early", "late"), f"timestamped text {line!r}")
        try:
            t = rfc3339(stamp)
            check(abs(t.timestamp() - mid) < 60, f"timestamp {stamp}")
        except ValueError:
            check(False, f"bad timestamp {stamp!r}")
        check(len(stamp.split(".")[1]) == 10, f"RFC3339NanoFixed (9 digits) {stamp!r}")
    expect_error("logs without streams", 400,
                 lambda: raw_status("GET", f"/containers/{c.id}/logs"))
    # follow ends with the container.
    f = run_bg(["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.2; done"], "follow")
    stream = f.logs(stream=True, follow=True)
    eq(b"".join(stream), b"line1\nline2\nline3\n", "follow until the end")
    # follow from now on only (tail=0) sees the new lines.
    g = run_bg(["sh", "-c", "echo old; while [ ! -e /tmp/go ]; do sleep 0.05; done; "
                "echo new1; echo new2"], "follow2")
    wait_until("old line", lambda: g.logs() == b"old\n")
    stream = g.logs(stream=True, follow=True, tail=0)
    g.exec_run("touch /tmp/go")
    eq(b"".join(stream), b"new1\nnew2\n", "follow with tail=0")
    # A tty container's log is raw.
    t = client.containers.run("busybox", ["sh", "-c", "echo ttyout"], tty=True, detach=True,
                              name=name("ttylog"), labels={LABEL: RUN})
    t.wait()
    eq(t.logs(), b"ttyout\r\n", "tty log")
    expect_error("logs of an unknown container", 404,
                 lambda: api.logs(f"nope{RUN}"), exc=errors.NotFound)


@case("streams")
def attach_streams():
    c = run_bg(["sh", "-c", "while true; do echo tick; echo tock >&2; sleep 0.1; done"],
               "attach")
    stream = c.attach(stream=True, stdout=True, stderr=True)
    got = b""
    for chunk in stream:
        got += chunk
        if b"tick" in got and b"tock" in got:
            break
    check(b"tick" in got and b"tock" in got, f"attach stream {got!r}")
    stream.close()
    # demux separates the streams.
    stream = c.attach(stream=True, stdout=True, stderr=True, demux=True)
    out, err = b"", b""
    for o, e in stream:
        out += o or b""
        err += e or b""
        if b"tick" in out and b"tock" in err:
            break
    check(b"tick" in out and b"tock" in err and b"tock" not in out,
          f"demuxed attach out={out!r} err={err!r}")
    stream.close()
    # stdout only.
    stream = c.attach(stream=True, stdout=True, stderr=False, demux=True)
    n = 0
    for o, e in stream:
        check(e is None, f"stderr frame on a stdout-only attach: {e!r}")
        n += 1
        if n >= 3:
            break
    stream.close()
    # logs=True, stream=False: the log so far, then the end.
    # docker-py reads the 101's head through a buffer and the rest from the raw socket:
    # bytes that come in the same read as the head are lost (dockerd has the same race,
    # berth waits a moment before the replay). Under heavy load, one more try.
    past = wait_until("attach logs", lambda: c.attach(stream=False, logs=True, stdout=True,
                                                       stderr=False), timeout=5)
    check(past.startswith(b"tick\n") and b"tock" not in past, f"attach logs {past[:40]!r}")
    # The stream ends when the container does.
    e = run_bg(["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.05; done; echo bye"],
               "attachend")
    stream = e.attach(stream=True, stdout=True, stderr=True)
    e.exec_run("touch /tmp/go")
    eq(b"".join(stream), b"bye\n", "attach until exit")
    # A tty container: raw stream.
    t = run_bg(["sh", "-c", "while true; do echo ttytick; sleep 0.1; done"], "attachtty",
               tty=True)
    got = b""
    stream = t.attach(stream=True, stdout=True, stderr=True)
    for chunk in stream:
        got += chunk
        if b"ttytick\r\n" in got:
            break
    check(got.startswith(b"ttytick") or b"\r\nttytick" in got, f"tty attach {got!r}")
    stream.close()
    expect_error("attach to an unknown container", 404,
                 lambda: api.attach(f"nope{RUN}"), exc=errors.NotFound)


def read_frames(sock, want, timeout=15):
    """Reads docker stream frames from a raw socket until `want` is in stdout."""
    sock.settimeout(timeout)
    buf, out = b"", {1: b"", 2: b""}
    deadline = time.time() + timeout
    while want not in out[1] and time.time() < deadline:
        data = sock.recv(65536)
        if not data:
            break
        buf += data
        while len(buf) >= 8:
            kind, size = buf[0], int.from_bytes(buf[4:8], "big")
            if len(buf) < 8 + size:
                break
            out[kind] = out.get(kind, b"") + buf[8 : 8 + size]
            buf = buf[8 + size :]
    return out


@case("streams")
def attach_socket_stdin():
    c = run_bg(["cat"], "attachsock", stdin_open=True)
    s = c.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
    sock = s._sock
    sock.sendall(b"hello through stdin\n")
    out = read_frames(sock, b"hello through stdin\n")
    eq(out[1], b"hello through stdin\n", "echo through attach_socket")
    sock.close()
    # Attached before start (docker run -a): the first output is not lost.
    d = client.containers.create("busybox", ["sh", "-c", "echo first; read x; echo got-$x"],
                                 stdin_open=True, name=name("attachfirst"),
                                 labels={LABEL: RUN})
    s = d.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
    sock = s._sock
    d.start()
    out = read_frames(sock, b"first\n")
    eq(out[1], b"first\n", "output attached before start")
    sock.sendall(b"x\n")
    out = read_frames(sock, b"got-x\n")
    eq(out[1], b"got-x\n", "stdin attached before start")
    sock.close()
    eq(d.wait(timeout=15)["StatusCode"], 0, "exit after stdin")


@case("streams")
def exec_run_variants():
    c = run_bg(["sleep", "1000"], "exec", environment={"FROMC": "c"}, working_dir="/home")
    r = c.exec_run(["sh", "-c", "echo out; echo err >&2; exit 4"])
    eq(r.exit_code, 4, "exec exit code")
    eq(sorted(r.output.splitlines()), [b"err", b"out"], "exec output")
    r = c.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
    eq(r.output, (b"out\n", b"err\n"), "exec demux")
    r = c.exec_run(["sh", "-c", "echo out; echo err >&2"], stderr=False)
    eq(r.output, b"out\n", "exec stdout only")
    r = c.exec_run(["sh", "-c", "for i in 1 2 3; do echo s$i; sleep 0.1; done"], stream=True)
    eq(r.exit_code, None, "stream: no exit code")
    eq(b"".join(r.output), b"s1\ns2\ns3\n", "exec stream")
    r = c.exec_run(["sh", "-c", "echo $FROMC $X; pwd; id -u"], environment={"X": "y"},
                   workdir="/tmp", user="nobody")
    eq(r.output, b"c y\n/tmp\n65534\n", "exec env/workdir/user")
    r = c.exec_run(["sh", "-c", "pwd; id -u"], user="1000:1000")
    eq(r.output, b"/home\n1000\n", "exec default workdir, numeric user")
    r = c.exec_run(["sh", "-c", "tty; echo $TERM"], tty=True)
    check(r.output.startswith(b"/dev/pts/"), f"exec tty {r.output!r}")
    check(b"\r\n" in r.output, "tty output has CRLF")
    r = c.exec_run(["sh", "-c", "sleep 0.3; touch /tmp/detached"], detach=True)
    check(r.output in (b"", ""), f"detached exec returns at once: {r.output!r}")
    wait_until("detached exec ran",
               lambda: c.exec_run(["test", "-e", "/tmp/detached"]).exit_code == 0)
    r = c.exec_run(["nope-not-a-command"])
    eq(r.exit_code, 127, "missing command exit code")
    check(b"executable file not found" in r.output, f"missing command: {r.output!r}")
    r = c.exec_run(["/etc/passwd"])
    eq(r.exit_code, 126, "not executable: exit code")
    r = c.exec_run(["pwd"], workdir="/nonexistent")
    eq(r.exit_code, 126, "missing workdir: exit code")
    check(b"chdir to cwd" in r.output, f"missing workdir: {r.output!r}")
    eq(c.exec_run(["pwd"], workdir="/proc/self").exit_code, 0, "workdir through a symlink")
    expect_error("detached exec of a missing command", 400,
                 lambda: c.exec_run(["nope-not-a-command"], detach=True))
    expect_error("relative exec workdir", 400, lambda: c.exec_run(["pwd"], workdir="tmp"))
    # The low-level API: create, start, inspect.
    e = api.exec_create(c.id, ["sh", "-c", "exit 7"], environment=["A=1"], workdir="/")
    started = api.exec_start(e["Id"])
    eq(started, b"", "exec_start output")
    ins = wait_until("exec finished", lambda: (lambda i: i if not i["Running"] else None)(
        api.exec_inspect(e["Id"])))
    conforms(ins, path="/exec/{id}/json")
    has_keys(ins, ["CanRemove", "ContainerID", "DetachKeys", "ExitCode", "ID", "OpenStderr",
                   "OpenStdin", "OpenStdout", "ProcessConfig", "Running", "Pid"],
             "exec inspect")
    eq(ins["ExitCode"], 7, "exec inspect ExitCode")
    eq(ins["Running"], False, "exec inspect Running")
    eq(ins["ContainerID"], c.id, "exec inspect ContainerID")
    eq(ins["ProcessConfig"]["entrypoint"], "sh", "ProcessConfig.entrypoint")
    eq(ins["ProcessConfig"]["arguments"], ["-c", "exit 7"], "ProcessConfig.arguments")
    check(ins["Pid"] > 0, "exec Pid")
    # A running exec.
    e = api.exec_create(c.id, ["sleep", "30"])
    ins = api.exec_inspect(e["Id"])
    eq((ins["Running"], ins["ExitCode"]), (False, None), "exec inspect before start")
    api.exec_start(e["Id"], detach=True)
    ins = wait_until("exec running", lambda: (lambda i: i if i["Running"] else None)(
        api.exec_inspect(e["Id"])))
    check(ins["Pid"] > 0 and os.path.exists(f"/proc/{ins['Pid']}"), "running exec Pid")
    cins = api.inspect_container(c.id)
    check(e["Id"] in (cins.get("ExecIDs") or []), f"ExecIDs {cins.get('ExecIDs')}")
    expect_error("start an exec twice", 409, lambda: api.exec_start(e["Id"]))
    expect_error("inspect an unknown exec", 404, lambda: api.exec_inspect("nope" + RUN),
                 exc=errors.NotFound)
    expect_error("exec without a command", 400,
                 lambda: raw_status("POST", f"/containers/{c.id}/exec", json={"Cmd": []}))
    expect_error("exec_create on an unknown container", 404,
                 lambda: api.exec_create(f"nope{RUN}", "true"), exc=errors.NotFound)
    c.kill()
    c.wait()
    expect_error("exec in a stopped container", 409, lambda: c.exec_run("true"))


# ---------------------------------------------------------------------------------------
# events


def collect_events(stream, out):
    try:
        for ev in stream:
            out.append(ev)
    except Exception:  # noqa: BLE001 - a closed stream ends the reader
        pass


@case("events")
def events_live_and_history():
    t0 = time.time()
    events = []
    stream = client.events(decode=True, filters={"type": "container",
                                                 "label": f"{LABEL}={RUN}"})
    # The daemon subscribes before it answers: once events() returns, nothing is missed.
    reader = threading.Thread(target=collect_events, args=(stream, events), daemon=True)
    reader.start()
    c = run_bg(["sh", "-c", "exit 2"], "events")
    c.wait()
    c.remove()
    wait_until("destroy event", lambda: any(e.get("Action") == "destroy" for e in events))
    stream.close()
    mine = [e for e in events if e.get("Actor", {}).get("ID") == c.id]
    actions = [e["Action"] for e in mine]
    for a in ["create", "start", "die", "destroy"]:
        check(a in actions, f"{a} in live events {actions}")
    check(actions.index("create") < actions.index("start") < actions.index("die")
          < actions.index("destroy") if all(a in actions for a in
                                             ["create", "start", "die", "destroy"]) else True,
          f"event order {actions}")
    for e in mine:
        conforms(e, "EventMessage")
        has_keys(e, ["Type", "Action", "Actor", "scope", "time", "timeNano"], "event")
        eq(e["Type"], "container", "event Type")
        eq(e["scope"], "local", "event scope")
        eq(e["Actor"]["Attributes"].get("name"), name("events"), "event name attribute")
        eq(e["Actor"]["Attributes"].get("image"), "busybox", "event image attribute")
        eq(e["Actor"]["Attributes"].get(LABEL), RUN, "event label attribute")
        check(abs(e["time"] - t0) < 60 and e["timeNano"] // 10**9 == e["time"],
              f"event time {e['time']} {e['timeNano']}")
    die = [e for e in mine if e["Action"] == "die"]
    check(die and die[0]["Actor"]["Attributes"].get("exitCode") == "2", f"die event {die}")
    # since/until replay history and end the stream.
    until = time.time() + 1
    hist = list(client.events(since=datetime.datetime.utcfromtimestamp(int(t0)),
                              until=datetime.datetime.utcfromtimestamp(int(until) + 1),
                              decode=True, filters={"container": c.id}))
    eq([e["Action"] for e in hist], actions, "since/until history")
    hist = list(client.events(since=int(t0), until=int(time.time()) + 1, decode=True,
                              filters={"container": name("events"), "event": "die"}))
    eq([e["Action"] for e in hist], ["die"], "event filter")
    hist = list(client.events(since=int(t0), until=int(time.time()) + 1, decode=True,
                              filters={"type": "image"}))
    check(all(e["Type"] == "image" for e in hist), "type=image filter")
    # A time in the future for until with nothing happening: the stream ends then.
    t = time.time()
    eq(list(client.events(since=int(t) + 100, until=int(t) + 2, decode=True)), [],
       "empty window")
    check(time.time() - t < 10, "until ends the stream")
    expect_error("events with a bad since", 400,
                 lambda: raw_status("GET", "/events", params={"since": "bogus"}))
    expect_error("events with bad filters", 400,
                 lambda: raw_status("GET", "/events", params={"filters": "{bad"}))


@case("events")
def image_events():
    t0 = int(time.time())
    repo = f"pyev{RUN}"
    image_id = import_busybox_as(repo, "1")
    client.images.get(image_id).tag(repo, "2")
    api.remove_image(f"{repo}:2")
    api.remove_image(image_id, force=True)
    hist = list(client.events(since=t0, until=int(time.time()) + 1, decode=True,
                              filters={"type": "image"}))
    actions = [e["Action"] for e in hist if e["Actor"]["ID"] == image_id
               or e["Actor"]["Attributes"].get("name", "").startswith(repo)]
    for a in ["import", "tag", "untag", "delete"]:
        check(a in actions, f"image event {a} in {actions}")
    tags = [e["Actor"]["Attributes"].get("name") for e in hist
            if e["Action"] == "tag" and e["Actor"]["ID"] == image_id]
    eq(sorted(tags), sorted([f"{repo}:1", f"{repo}:2"]), "tag events name the new tag")
    untags = [e for e in hist if e["Action"] == "untag"
              and e["Actor"]["Attributes"].get("name") == image_id]
    check(untags and all(e["Actor"]["ID"] == image_id for e in untags),
          f"untag events name the image by ID: {[e for e in hist if e['Action'] == 'untag']}")
    for e in hist:
        conforms(e, "EventMessage")


# ---------------------------------------------------------------------------------------
# errors


@case("errors")
def error_statuses():
    expect_error("get an unknown container", 404,
                 lambda: client.containers.get(f"nope{RUN}"), exc=errors.NotFound,
                 contains=f"No such container: nope{RUN}")
    expect_error("get an unknown image", 404, lambda: client.images.get(f"nope{RUN}:1"),
                 exc=errors.ImageNotFound)
    expect_error("create from an unknown image", 404,
                 lambda: client.containers.create(f"nope{RUN}:1", "true"),
                 exc=errors.ImageNotFound)
    # run() pulls a missing image; berth has no registry yet: still ImageNotFound.
    expect_error("run an unknown image", 404,
                 lambda: client.containers.run(f"nope{RUN}:1", "true"),
                 exc=errors.ImageNotFound)
    c = client.containers.create("busybox", ["sleep", "1000"], name=name("err"),
                                 labels={LABEL: RUN})
    expect_error("name conflict", 409,
                 lambda: client.containers.create("busybox", "true", name=name("err")),
                 contains="is already in use")
    expect_error("invalid name", 400,
                 lambda: client.containers.create("busybox", "true", name="bad name"))
    c.start()
    r = raw("POST", f"/containers/{c.id}/start")
    eq(r.status_code, 304, "start a running container")
    eq(r.content, b"", "304 has no body")
    expect_error("remove a running container", 409, c.remove)
    c.kill()
    c.wait()
    r = raw("POST", f"/containers/{c.id}/stop")
    eq(r.status_code, 304, "stop a stopped container")
    expect_error("kill a stopped container", 409, c.kill)
    r = raw("POST", "/containers/create", data="{not json",
            headers={"Content-Type": "application/json"})
    eq(r.status_code, 400, "invalid JSON")
    check(r.json().get("message"), "invalid JSON message")
    r = raw("POST", "/containers/create", data='{"Image": 5}',
            headers={"Content-Type": "application/json"})
    eq(r.status_code, 400, "wrong JSON type")
    r = raw("POST", "/containers/create", data='{"Cmd": ["true"]}',
            headers={"Content-Type": "application/json"})
    eq(r.status_code, 400, "no image")
    r = raw("POST", "/containers/create", data='{"Image": "busybox", "Cmd": ["true"], '
            '"HostConfig": {"Memory": 1024}}', headers={"Content-Type": "application/json"})
    eq(r.status_code, 400, "memory below the minimum")
    expect_error("mem_limit below the minimum", 400,
                 lambda: client.containers.create("busybox", "true", mem_limit="1m"))
    expect_error("too many CPUs", 400,
                 lambda: client.containers.create("busybox", "true", nano_cpus=10**12))
    expect_error("unknown network", 404,
                 lambda: client.containers.create("busybox", "true",
                                                  network_mode=f"nope{RUN}"))
    r = raw("POST", f"/containers/{c.id}/exec", data="[]",
            headers={"Content-Type": "application/json"})
    eq(r.status_code, 400, "exec create with a JSON array body")
    r = raw("POST", f"/containers/{c.id}/kill", params={"signal": "NOPE"})
    eq(r.status_code, 400, "bad signal")
    r = raw("POST", f"/containers/{c.id}/stop", params={"t": "soon"})
    eq(r.status_code, 400, "bad stop timeout")
    r = raw("GET", "/containers/json", params={"limit": "many"})
    eq(r.status_code, 400, "bad limit")
    r = raw("GET", "/containers/json", params={"filters": '{"status":["x"]}'})
    eq(r.status_code, 400, "bad status filter value")
    r = raw("GET", "/containers/json", params={"filters": "[1,2]"})
    eq(r.status_code, 400, "filters not an object")
    r = raw("GET", "/nope/at/all")
    eq(r.status_code, 404, "unknown path")
    eq(r.json().get("message"), "page not found", "unknown path message")
    r = raw("PUT", "/containers/json")
    eq(r.status_code, 404, "wrong method")
    status, _, body = raw_socket("GET /containers/%zz/json HTTP/1.1")
    eq(status, 400, f"bad escape ({body!r})")
    status, headers, body = raw_socket("HEAD /v1.41/_ping HTTP/1.1")
    eq((status, body), (200, b""), "HEAD /v1.41/_ping over a raw socket")
    check("api-version: 1.50" in headers, f"HEAD headers {headers!r}")
    r = raw("POST", "/containers/create", params={"name": "a;b"}, data="{}",
            headers={"Content-Type": "application/json"})
    eq(r.status_code, 400, "bad name in query")
    for r in [raw("GET", f"/containers/nope{RUN}/json"), raw("DELETE", f"/containers/nope{RUN}"),
              raw("POST", f"/containers/nope{RUN}/start"), raw("GET", f"/images/nope{RUN}/json")]:
        eq(r.status_code, 404, f"{r.request.method} {r.request.path_url}")
        check(isinstance(r.json().get("message"), str), "error body has a message")
        eq(r.headers.get("Content-Type"), "application/json", "error Content-Type")
    # 501 for what is not there yet, never a 500.
    r = raw("POST", "/images/load", data=b"", headers={"Content-Type": "application/x-tar"})
    check(r.status_code in (400, 501), f"images/load: {r.status_code}")
    c.remove()


@case("errors")
def bad_input_never_500():
    """Garbage bodies and parameters must be 4xx answers, never 500, a hang or a crash."""
    c = client.containers.create("busybox", ["sleep", "1000"], name=name("fuzz"),
                                 labels={LABEL: RUN})
    c.start()
    bodies = ["", "null", "[]", "1", '"x"', "{", '{"Image": null}', '{"Image": ["x"]}',
              '{"Image": "busybox", "Cmd": 5}', '{"Image": "busybox", "HostConfig": 5}',
              '{"Image": "busybox", "Env": "A=1"}', '{"Image": "busybox", "Labels": []}',
              '{"Image": "busybox", "HostConfig": {"Memory": "x"}}',
              '{"Image": "busybox", "HostConfig": {"Memory": -5}}',
              '{"Image": "busybox", "HostConfig": {"NanoCpus": -1}}',
              '{"Image": "busybox", "HostConfig": {"PidsLimit": 1e99}}',
              '{"Image": "busybox", "HostConfig": {"Ulimits": [{"Name": "nope"}]}}',
              '{"Image": "busybox", "HostConfig": {"Ulimits": [{"Name": "nofile", '
              '"Soft": 10, "Hard": 5}]}}',
              '{"Image": "busybox", "Cmd": ["true"], "User": "nosuchuser"}',
              '{"Image": "busybox", "Cmd": ["true"], "StopSignal": "NOPE"}',
              '{"Image": "busybox", "Cmd": ["true"], "HostConfig": {"Binds": ["rel:/x"]}}',
              '{"Image": "busybox", "Cmd": ["true"], "HostConfig": {"Runtime": "x"}}',
              '{"Image": "busybox", "Cmd": ["true"], "HostConfig": {"RestartPolicy": '
              '{"Name": "sometimes"}}}',
              '{"Image": "::::", "Cmd": ["true"]}',
              '{"Image": "busybox\\u0000", "Cmd": ["true"]}',
              "\xff\xfe"]
    created = []
    for body in bodies:
        r = raw("POST", "/containers/create", data=body.encode("latin-1"),
                headers={"Content-Type": "application/json"})
        # 501: what berth does not do yet (named volumes), never a 500.
        check(r.status_code < 500 or r.status_code == 501,
              f"create {body!r}: {r.status_code} {r.text.strip()}")
        if r.status_code == 201:
            created.append(r.json()["Id"])
    # Containers created from odd but valid bodies must start or fail cleanly.
    for cid in created:
        r = raw("POST", f"/containers/{cid}/start")
        check(r.status_code < 500 or "StopSignal" in r.text,
              f"start of {cid[:12]}: {r.status_code} {r.text.strip()}")
        raw("DELETE", f"/containers/{cid}", params={"force": 1})
    params = [
        ("GET", "/containers/json", {"all": "x", "limit": "-1", "size": "yes"}, 200),
        ("GET", "/containers/json", {"filters": '{"label":{"a":"b"}}'}, 400),
        ("GET", "/containers/json", {"filters": '{"before":["nope"]}'}, 404),
        ("GET", f"/containers/{c.id}/logs", {"stdout": 1, "tail": "x"}, 200),
        ("GET", f"/containers/{c.id}/logs", {"stdout": 1, "since": "x"}, 400),
        ("GET", f"/containers/{c.id}/logs", {"stdout": 1, "until": "-5"}, 200),
        ("GET", f"/containers/{c.id}/top", {"ps_args": "--nope"}, 400),
        ("GET", f"/containers/{c.id}/top", {"ps_args": "1e3"}, 400),
        ("POST", f"/containers/{c.id}/resize", {"h": "10", "w": "10"}, 200),
        ("POST", f"/containers/{c.id}/resize", {"h": "-1", "w": "5"}, 400),
        ("POST", f"/containers/{c.id}/resize", {"h": "99999999999", "w": "5"}, 400),
        ("POST", f"/containers/{c.id}/wait", {"condition": "x"}, 400),
        ("POST", f"/containers/{c.id}/kill", {"signal": "0"}, 400),
        ("POST", f"/containers/{c.id}/kill", {"signal": "99"}, 400),
        ("POST", f"/containers/{c.id}/rename", {}, 400),
        ("POST", f"/containers/{c.id}/attach", {"detachKeys": "ctrl-"}, 400),
        ("POST", f"/containers/{c.id}/stop", {"signal": "NOPE"}, 400),
        ("GET", "/events", {"until": "nope"}, 400),
        ("GET", "/images/json", {"filters": '{"dangling":["maybe"]}'}, 400),
        ("POST", "/images/create", {}, 400),
        ("POST", "/images/busybox/tag", {"repo": "a b"}, 400),
        ("DELETE", "/images/", {}, 404),
        ("POST", "/exec/nope/start", {}, 404),
        ("POST", "/exec/nope/resize", {"h": "x"}, 400),
    ]
    for method, path, query, want in params:
        kw = {"params": query}
        if method == "POST":
            kw["headers"] = {"Content-Type": "application/json"}
        try:
            r = raw(method, path, timeout=10, **kw)
        except requests.exceptions.RequestException as e:
            check(False, f"{method} {path} {query}: {type(e).__name__} (hang or drop?)")
            continue
        eq(r.status_code, want, f"{method} {path} {query} ({r.text.strip()[:100]})")
    # exec start with a bad body, then a valid detached start.
    e = api.exec_create(c.id, "true")
    r = raw("POST", f"/exec/{e['Id']}/start", data="{bad",
            headers={"Content-Type": "application/json"})
    eq(r.status_code, 400, "exec start with invalid JSON")
    c.remove(force=True)


# Bodies of a valid create and exec, each field then replaced by values of every JSON type.
CREATE_BODY = {
    "Image": "busybox", "Cmd": ["sh", "-c", "exit 0"], "Env": ["A=1"], "WorkingDir": "/tmp",
    "User": "root", "Hostname": "h", "Domainname": "", "Labels": {"a": "b"}, "Tty": False,
    "OpenStdin": False, "StdinOnce": False, "AttachStdout": True, "StopSignal": "SIGTERM",
    "StopTimeout": 3, "Entrypoint": None, "ExposedPorts": None, "Volumes": None,
    "HostConfig": {
        "Memory": 67108864, "MemorySwap": 0, "MemoryReservation": 0, "NanoCpus": 500000000,
        "CpuShares": 512, "CpuPeriod": 0, "CpuQuota": 0, "CpusetCpus": "", "CpusetMems": "",
        "PidsLimit": 50, "Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200}],
        "AutoRemove": False, "NetworkMode": "none", "Init": False, "ShmSize": 0,
        "Tmpfs": {"/t": "size=1m"}, "ReadonlyRootfs": False, "CapAdd": None, "CapDrop": None,
        "Sysctls": None, "ExtraHosts": ["a:1.2.3.4"], "Dns": [], "OomScoreAdj": 0,
        "RestartPolicy": {"Name": "no"}, "SecurityOpt": None, "GroupAdd": None,
        "MemorySwappiness": None, "OomKillDisable": None, "Runtime": "", "IpcMode": "",
        "PidMode": "", "UTSMode": "", "CgroupnsMode": "", "ConsoleSize": [0, 0],
        "LogConfig": {"Type": "json-file", "Config": {}}, "Binds": None, "Mounts": None,
        "PortBindings": None, "Devices": None, "MaskedPaths": None, "ReadonlyPaths": None,
    },
}
# Requests that are valid but that this machine cannot grant (the environment lacks
# CAP_SYS_RESOURCE): they fail at start with the runtime's error, as with dockerd.
CANNOT_GRANT = {(("HostConfig", "OomScoreAdj"), "-1"), (("HostConfig", "Privileged"), "True")}
MUTATIONS = ["x", "", "rel", -1, 2**63, 1.5, True, None, [], {}, ["x"], {"k": "v"}]


def field_paths(d, pre=()):
    for k, v in d.items():
        yield pre + (k,)
        if isinstance(v, dict) and k == "HostConfig":
            yield from field_paths(v, pre + (k,))


def post_json(path, body, timeout=20):
    return raw("POST", path, data=json.dumps(body), timeout=timeout,
               headers={"Content-Type": "application/json"})


@case("fuzz")
def create_bodies_of_every_type():
    """Every field of a create body with values of the wrong type or range: a 4xx (or a
    container that starts or fails to start with a 4xx), never a 500."""
    tried = 0
    for p in field_paths(CREATE_BODY):
        for m in MUTATIONS:
            if (p, repr(m)) in CANNOT_GRANT:
                continue
            body = json.loads(json.dumps(CREATE_BODY))
            target = body
            for k in p[:-1]:
                target = target[k]
            target[p[-1]] = m
            body["Labels"] = {LABEL: RUN} if p != ("Labels",) else m
            tried += 1
            r = post_json("/containers/create", body)
            what = f"{'.'.join(p)}={m!r}"
            if not check(r.status_code in (201, 400, 404, 409, 501),
                         f"create {what}: {r.status_code} {r.text.strip()[:200]}"):
                continue
            if r.status_code != 201:
                check(isinstance(r.json().get("message"), str), f"create {what}: no message")
                continue
            cid = r.json()["Id"]
            s = raw("POST", f"/containers/{cid}/start", timeout=30)
            check(s.status_code < 500 or s.status_code == 501,
                  f"start after {what}: {s.status_code} {s.text.strip()[:200]}")
            i = raw("GET", f"/containers/{cid}/json")
            eq(i.status_code, 200, f"inspect after {what}")
            conforms(i.json(), "ContainerInspectResponse")
            raw("DELETE", f"/containers/{cid}", params={"force": 1}, timeout=30)
    check(tried > 400, f"only {tried} bodies tried")


@case("fuzz")
def exec_bodies_of_every_type():
    c = run_bg(["sleep", "1000"], "execfuzz")
    create = {"AttachStdin": False, "AttachStdout": True, "AttachStderr": True, "Tty": False,
              "Env": ["A=1"], "Cmd": ["true"], "User": "root", "WorkingDir": "/tmp",
              "DetachKeys": "ctrl-p,ctrl-q", "Privileged": False, "ConsoleSize": [10, 10]}
    start = {"Detach": True, "Tty": False, "ConsoleSize": [10, 10]}
    muts = MUTATIONS + ["nosuchuser", "1000:nosuchgroup", [-1, 5], [2**40, 1], "/nonexistent"]
    for k in create:
        for m in muts:
            r = post_json(f"/containers/{c.id}/exec", {**create, k: m})
            what = f"exec {k}={m!r}"
            if not check(r.status_code in (201, 400),
                         f"{what}: {r.status_code} {r.text.strip()[:200]}"):
                continue
            if r.status_code == 201:
                s = post_json(f"/exec/{r.json()['Id']}/start", start)
                check(s.status_code in (200, 400, 409),
                      f"start {what}: {s.status_code} {s.text.strip()[:200]}")
    for k in start:
        for m in muts:
            r = post_json(f"/containers/{c.id}/exec", create)
            body = {**start, k: m}
            try:
                s = post_json(f"/exec/{r.json()['Id']}/start", body, timeout=10)
                status = s.status_code
                s.close()
            except requests.exceptions.RequestException as e:
                status = f"{type(e).__name__}"
            check(status in (101, 200, 400), f"exec start {k}={m!r}: {status}")
    c.reload()
    eq(c.status, "running", "the container survived")


# ---------------------------------------------------------------------------------------


def main():
    args = sys.argv[1:]
    if not args or args[0] not in GROUPS:
        print(f"usage: {sys.argv[0]} GROUP [CASE…]; groups: {', '.join(GROUPS)}")
        return 2
    group, only = args[0], set(args[1:])
    if SPEC is None:
        print("note: BERTH_API_SPEC not found: responses are not checked against the spec")
    failed = []

    def on_alarm(signum, frame):
        raise CaseFailed(f"case timed out after {CASE_TIMEOUT}s")

    signal.signal(signal.SIGALRM, on_alarm)
    for fn in GROUPS[group]:
        if only and fn.__name__ not in only:
            continue
        _problems.clear()
        t0 = time.time()
        signal.alarm(CASE_TIMEOUT)
        try:
            fn()
        except Exception:  # noqa: BLE001 - reported below
            _problems.append("raised:\n" + traceback.format_exc())
        finally:
            signal.alarm(0)
            try:
                cleanup()
            except Exception as e:  # noqa: BLE001
                _problems.append(f"clean-up failed: {e}")
        took = time.time() - t0
        if _problems:
            failed.append(fn.__name__)
            for p in _problems:
                print(f"FAIL {fn.__name__}: {p}")
            print(f"---- {fn.__name__}: FAILED ({took:.1f}s)")
        else:
            print(f"ok   {fn.__name__} ({took:.1f}s)")
        sys.stdout.flush()
    if failed:
        print(f"{len(failed)} case(s) failed: {', '.join(failed)}")
        return 1
    print("all cases passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
