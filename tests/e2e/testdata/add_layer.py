#!/usr/bin/python3
"""Makes, in a plain-HTTP registry, an image strata has never seen: the OCI manifest of
REPO:TAG with one more layer on top, an uncompressed tar holding /big (SIZE random bytes),
under REPO:NEWTAG. The content is made here, not by strata, so a pull of it downloads the layer
instead of finding it in layerstore. Prints the new config's digest (its image id).

usage: add_layer.py REGISTRY REPO TAG NEWTAG SIZE
"""
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.request

REGISTRY, REPO, TAG, NEWTAG, SIZE = sys.argv[1:6]
BASE = "http://%s/v2/%s" % (REGISTRY, REPO)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def request(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    return urllib.request.urlopen(req)


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload(data):
    started = request("POST", "%s/blobs/uploads/" % BASE, body=b"")
    location = started.headers["Location"]
    if location.startswith("/"):
        location = "http://%s%s" % (REGISTRY, location)
    sep = "&" if "?" in location else "?"
    request("PUT", "%s%sdigest=%s" % (location, sep, digest(data)), body=data,
            headers={"Content-Type": "application/octet-stream"})


layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
    info = tarfile.TarInfo("big")
    info.size = int(SIZE)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(os.urandom(info.size)))
layer_bytes = layer.getvalue()
upload(layer_bytes)

manifest = json.loads(
    request("GET", "%s/manifests/%s" % (BASE, TAG), headers={"Accept": OCI_MANIFEST}).read())
config = json.loads(request("GET", "%s/blobs/%s" % (BASE, manifest["config"]["digest"])).read())
config["rootfs"]["diff_ids"].append(digest(layer_bytes))
config.setdefault("history", []).append({"created_by": "add_layer.py"})
config_bytes = json.dumps(config).encode()
upload(config_bytes)
manifest["config"] = dict(manifest["config"], digest=digest(config_bytes), size=len(config_bytes))
manifest["layers"].append(
    {"mediaType": OCI_LAYER, "digest": digest(layer_bytes), "size": len(layer_bytes)})
request("PUT", "%s/manifests/%s" % (BASE, NEWTAG), body=json.dumps(manifest).encode(),
        headers={"Content-Type": OCI_MANIFEST})
print(digest(config_bytes))
