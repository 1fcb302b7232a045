#!/usr/bin/python3
"""A small CRI v1 client: the test suite's stand-in for crictl and the kubelet.

Speaks gRPC to a CRI endpoint (containerd's CRI plugin) with the messages of
api.proto beside this file; the Python stubs are generated with protoc into
$CRI_PROTO_OUT (or a temp dir) on first use.  Needs Debian's python3-grpcio,
python3-protobuf and protobuf-compiler; run it with /usr/bin/python3.

    cri.py [-r SOCKET] COMMAND ...      (default socket: $CRI_ENDPOINT)

    version | info | images
    runp [--runtime HANDLER] POD.json           run a pod sandbox, print its id
    pods | inspectp POD | stopp POD | rmp POD
    create POD CONTAINER.json POD.json          create a container, print its id
    start ID | stop [-t SECONDS] ID | rm ID
    ps [--pod POD] | inspect ID                 (inspect: status + verbose info)
    exec-sync [--timeout S] ID CMD...           ExecSync: output, exit code as ours
    exec [-t] ID CMD...                         Exec through the streaming server
                                                (-t: a tty and stdin, as kubectl -it)
    update ID RESOURCES.json                    UpdateContainerResources (linux)
    stats ID | logs ID

The JSON files are the CRI messages (PodSandboxConfig, ContainerConfig,
LinuxContainerResources) in protobuf's JSON mapping: field names as in
api.proto (snake_case) or camelCase; an unknown field is an error.
"""

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "api.proto")


def die(msg, code=1):
    print("cri: " + msg, file=sys.stderr)
    sys.exit(code)


def load_stubs():
    """Generate api_pb2.py (protoc) unless $CRI_PROTO_OUT has a fresh one."""
    out = os.environ.get("CRI_PROTO_OUT")
    tmp = None
    if not out:
        out = tmp = tempfile.mkdtemp(prefix="cri-proto.")
    gen = os.path.join(out, "api_pb2.py")
    if not os.path.exists(gen) or os.path.getmtime(gen) < os.path.getmtime(PROTO):
        os.makedirs(out, exist_ok=True)
        if not shutil.which("protoc"):
            die("protoc not found (install protobuf-compiler)")
        subprocess.run(["protoc", "-I", HERE, "--python_out=" + out, PROTO], check=True)
    sys.path.insert(0, out)
    import api_pb2  # noqa: E402  (generated above)

    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return api_pb2


try:
    import grpc
    from google.protobuf import json_format
except ImportError as e:
    die("%s (install python3-grpcio python3-protobuf; run with /usr/bin/python3)" % e)

pb = load_stubs()


class Client:
    def __init__(self, sock):
        self.channel = grpc.insecure_channel("unix://" + sock)

    def call(self, service, name, deadline=120, **fields):
        desc = pb.DESCRIPTOR.services_by_name[service].methods_by_name[name]
        req_t = getattr(pb, desc.input_type.name)
        resp_t = getattr(pb, desc.output_type.name)
        rpc = self.channel.unary_unary(
            "/runtime.v1.%s/%s" % (service, name),
            request_serializer=req_t.SerializeToString,
            response_deserializer=resp_t.FromString,
        )
        req = fields.pop("_request", None) or req_t(**fields)
        try:
            return rpc(req, timeout=deadline)
        except grpc.RpcError as e:
            die("%s: %s: %s" % (name, e.code().name, e.details()))

    def rt(self, name, **kw):
        return self.call("RuntimeService", name, **kw)

    def img(self, name, **kw):
        return self.call("ImageService", name, **kw)


def to_json(msg):
    # Fields at their default (state 0 = READY / CREATED, exit code 0) are kept.
    return json_format.MessageToJson(
        msg, preserving_proto_field_name=True, including_default_value_fields=True, indent=2
    )


def load(path, msg_type):
    """A message from a JSON file ("-": stdin), unknown fields rejected."""
    try:
        text = sys.stdin.read() if path == "-" else open(path).read()
        return json_format.Parse(text, msg_type())
    except (OSError, json_format.ParseError) as e:
        die("%s: %s" % (path, e), 2)


# ------------------------------------------------------------ streaming exec
# The CRI streaming server (kubelet's remotecommand protocol) over a
# WebSocket, subprotocol v4.channel.k8s.io: each binary message starts with
# its channel (1 stdout, 2 stderr, 3 the final status as JSON).


def ws_recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def ws_send(s, opcode, payload=b""):
    # Client frames are masked (RFC 6455 5.3).
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def stream_exec(url, timeout=60):
    """Run the exec behind URL; return (stdout, stderr, exit code)."""
    u = urllib.parse.urlparse(url)
    s = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    path = u.path + ("?" + u.query if u.query else "")
    s.sendall(
        (
            "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n" % (path, u.netloc, key)
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += ws_recv_exact(s, 1)
    status_line = head.split(b"\r\n", 1)[0].decode()
    if " 101 " not in status_line + " ":
        die("exec: streaming server answered %r" % status_line)
    out = {1: b"", 2: b""}
    status = None
    try:
        while True:
            b0, b1 = ws_recv_exact(s, 2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", ws_recv_exact(s, 2))[0]
            elif n == 127:
                n = struct.unpack("!Q", ws_recv_exact(s, 8))[0]
            mask = ws_recv_exact(s, 4) if b1 & 0x80 else None
            data = ws_recv_exact(s, n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if os.environ.get("CRI_DEBUG"):
                sys.stderr.write("cri: ws frame opcode %d: %r\n" % (opcode, data[:200]))
            if opcode == 8:
                break
            if opcode == 9:
                ws_send(s, 10, data)
                continue
            if opcode in (0, 1, 2) and data:
                ch, data = data[0], data[1:]
                if ch in out:
                    out[ch] += data
                elif ch == 3 and data:
                    status = json.loads(data)
    except EOFError:
        pass
    try:
        ws_send(s, 8)
    except OSError:
        pass
    s.close()
    code = 0
    if status and status.get("status") != "Success":
        code = -1
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                code = int(cause.get("message"))
        if code == -1:
            sys.stderr.write("cri: exec: %s\n" % status.get("message"))
    return out[1], out[2], code


# ------------------------------------------------------------ CRI log format
def parse_log(path):
    """The lines of a CRI log file: TIMESTAMP STREAM P|F MESSAGE; P parts are joined."""
    entries, partial = [], {}
    with open(path, "rb") as f:
        for raw in f:
            parts = raw.rstrip(b"\n").split(b" ", 3)
            if len(parts) < 3:
                die("%s: not in the CRI log format: %r" % (path, raw))
            ts, stream, tag = parts[0].decode(), parts[1].decode(), parts[2].decode()
            msg = parts[3] if len(parts) > 3 else b""
            if stream not in ("stdout", "stderr") or tag not in ("P", "F"):
                die("%s: not in the CRI log format: %r" % (path, raw))
            partial[stream] = partial.get(stream, b"") + msg
            if tag == "F":
                entries.append((ts, stream, partial.pop(stream)))
    return entries


# ------------------------------------------------------------ commands
def take_opt(args, name, default=None):
    if name in args:
        i = args.index(name)
        if i + 1 >= len(args):
            die("%s needs a value" % name, 2)
        val = args[i + 1]
        del args[i : i + 2]
        return val
    return default


def take_flag(args, name):
    if name in args:
        args.remove(name)
        return True
    return False


def main(argv):
    args = list(argv)
    sock = take_opt(args, "-r") or os.environ.get("CRI_ENDPOINT")
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if not sock:
        die("no endpoint: give -r SOCKET or set CRI_ENDPOINT", 2)
    c = Client(sock)
    cmd, args = args[0], args[1:]

    def need(n, usage):
        if len(args) < n:
            die("usage: cri.py " + usage, 2)

    if cmd == "version":
        print(to_json(c.rt("Version", version="v1")))
    elif cmd == "info":
        print(to_json(c.rt("Status", verbose=False)))
    elif cmd == "images":
        print(to_json(c.img("ListImages")))
    elif cmd == "runp":
        handler = take_opt(args, "--runtime", "")
        need(1, "runp [--runtime HANDLER] POD.json")
        config = load(args[0], pb.PodSandboxConfig)
        print(c.rt("RunPodSandbox", config=config, runtime_handler=handler).pod_sandbox_id)
    elif cmd == "pods":
        print(to_json(c.rt("ListPodSandbox")))
    elif cmd == "inspectp":
        need(1, "inspectp POD")
        print(to_json(c.rt("PodSandboxStatus", pod_sandbox_id=args[0], verbose=True)))
    elif cmd == "stopp":
        need(1, "stopp POD")
        c.rt("StopPodSandbox", pod_sandbox_id=args[0])
    elif cmd == "rmp":
        need(1, "rmp POD")
        c.rt("RemovePodSandbox", pod_sandbox_id=args[0])
    elif cmd == "create":
        need(3, "create POD CONTAINER.json POD.json")
        config = load(args[1], pb.ContainerConfig)
        sandbox = load(args[2], pb.PodSandboxConfig)
        resp = c.rt("CreateContainer", pod_sandbox_id=args[0], config=config, sandbox_config=sandbox)
        print(resp.container_id)
    elif cmd == "start":
        need(1, "start ID")
        c.rt("StartContainer", container_id=args[0])
    elif cmd == "stop":
        t = int(take_opt(args, "-t", "0"))
        need(1, "stop [-t SECONDS] ID")
        c.rt("StopContainer", container_id=args[0], timeout=t, deadline=t + 120)
    elif cmd == "rm":
        need(1, "rm ID")
        c.rt("RemoveContainer", container_id=args[0])
    elif cmd == "ps":
        pod = take_opt(args, "--pod", "")
        f = pb.ContainerFilter(pod_sandbox_id=pod)
        print(to_json(c.rt("ListContainers", filter=f)))
    elif cmd == "inspect":
        need(1, "inspect ID")
        print(to_json(c.rt("ContainerStatus", container_id=args[0], verbose=True)))
    elif cmd == "exec-sync":
        t = int(take_opt(args, "--timeout", "0"))
        need(2, "exec-sync [--timeout S] ID CMD...")
        r = c.rt("ExecSync", container_id=args[0], cmd=args[1:], timeout=t, deadline=(t or 600) + 60)
        sys.stdout.buffer.write(r.stdout)
        sys.stderr.buffer.write(r.stderr)
        return r.exit_code
    elif cmd == "exec":
        tty = take_flag(args, "-t")
        need(2, "exec [-t] ID CMD...")
        # -t is kubectl's -it: a tty with stdin open (we send nothing on it).
        r = c.rt("Exec", container_id=args[0], cmd=args[1:], tty=tty, stdin=tty, stdout=True, stderr=not tty)
        out, err, code = stream_exec(r.url)
        sys.stdout.buffer.write(out)
        sys.stderr.buffer.write(err)
        return 255 if code < 0 else code
    elif cmd == "update":
        need(2, "update ID RESOURCES.json")
        res = load(args[1], pb.LinuxContainerResources)
        c.rt("UpdateContainerResources", container_id=args[0], linux=res)
    elif cmd == "stats":
        need(1, "stats ID")
        print(to_json(c.rt("ContainerStats", container_id=args[0])))
    elif cmd == "logs":
        need(1, "logs ID")
        path = c.rt("ContainerStatus", container_id=args[0]).status.log_path
        if not path:
            die("container %s has no log path" % args[0])
        for _, stream, msg in parse_log(path):
            (sys.stdout if stream == "stdout" else sys.stderr).buffer.write(msg + b"\n")
    else:
        die("unknown command %r (see --help)" % cmd, 2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
