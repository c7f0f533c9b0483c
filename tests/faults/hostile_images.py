#!/usr/bin/env python3
"""tests/faults/hostile_images.py DIR: the hostile images of the bad-input
table (tests/faults/bad_inputs.tsv, lab 10), one OCI image layout each under
DIR, whose one layer is a tar written entry by entry (GNU tar would clean
the names up): img-absolute, img-dotdot, img-symlink (a link out, then a
file written through it), img-hardlink (to /etc/passwd), img-device,
img-truncated (half a tar.gz), img-missing (no blob), img-mismatch (a blob
under another digest), img-huge (a gzip of a few KiB that unpacks to 4 MiB of
zeros: the table runs it under a 1 MiB cap, NSLAB_MAX_LAYER_BYTES). Each
layer holds a unique file, so no store has it.
"""
import hashlib
import io
import json
import os
import sys
import tarfile

root = sys.argv[1]
unique = ("%d %s\n" % (os.getpid(), root)).encode()


def tar_of(entries, gzip=False):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz" if gzip else "w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, extra in entries:
            info = tarfile.TarInfo(name)
            info.mode = 0o644
            data = None
            if kind == "file":
                data = extra
                info.size = len(data)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, extra
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, extra
            elif kind == "chardev":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, extra[0], extra[1]
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def write_image(name, layer, gzip=False, stored_as=None):
    d = os.path.join(root, name)
    os.makedirs(os.path.join(d, "blobs", "sha256"), exist_ok=True)

    def blob(data, under=None):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(d, "blobs", "sha256", under or digest), "wb") as f:
            f.write(data)
        return digest

    digest = hashlib.sha256(layer).hexdigest()
    if stored_as != "missing":
        blob(layer, stored_as)
    if stored_as not in (None, "missing"):
        digest = stored_as
    config = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {}}).encode())
    media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gzip else "")
    manifest = blob(json.dumps({
        "schemaVersion": 2,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + config},
        "layers": [{"mediaType": media, "digest": "sha256:" + digest}],
    }).encode())
    with open(os.path.join(d, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + manifest}]}, f)
    with open(os.path.join(d, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')


plain = ("x", "file", unique)
write_image("img-absolute", tar_of([("/evil", "file", unique)]))
write_image("img-dotdot", tar_of([("../evil", "file", unique)]))
write_image("img-symlink", tar_of([("out", "symlink", root), ("out/evil", "file", unique)]))
write_image("img-hardlink", tar_of([plain, ("pw", "hardlink", "/etc/passwd")]))
write_image("img-device", tar_of([plain, ("sda", "chardev", (8, 0))]))
whole = tar_of([("x", "file", unique + b"z" * 50000)], gzip=True)
write_image("img-truncated", whole[: len(whole) // 2], gzip=True)
write_image("img-missing", tar_of([plain]), stored_as="missing")
write_image("img-mismatch", tar_of([plain]), stored_as=hashlib.sha256(unique).hexdigest())
write_image("img-huge", tar_of([plain, ("zeros", "file", b"\0" * (4 << 20))], gzip=True), gzip=True)
