#!/usr/bin/python3
"""Makes a two-platform OCI image index in a plain-HTTP registry for tests: the manifest of
REPO:TAG (linux/amd64) and a copy of it whose config says linux/arm64 (and carries the label
"platform=arm64"), both under REPO:multi. Prints the arm64 config's digest (its image id).

usage: make_index.py REGISTRY REPO TAG
"""
import hashlib
import json
import sys
import urllib.request

REGISTRY, REPO, TAG = sys.argv[1:4]
BASE = "http://%s/v2/%s" % (REGISTRY, REPO)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def request(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    return urllib.request.urlopen(req)


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


amd64 = request("GET", "%s/manifests/%s" % (BASE, TAG), headers={"Accept": OCI_MANIFEST}).read()
manifest = json.loads(amd64)
config = json.loads(request("GET", "%s/blobs/%s" % (BASE, manifest["config"]["digest"])).read())
config["architecture"] = "arm64"
config.setdefault("config", {}).setdefault("Labels", {})
config["config"]["Labels"] = dict(config["config"]["Labels"] or {}, platform="arm64")
config_bytes = json.dumps(config).encode()
upload = request("POST", "%s/blobs/uploads/" % BASE, body=b"")
location = upload.headers["Location"]
if location.startswith("/"):
    location = "http://%s%s" % (REGISTRY, location)
sep = "&" if "?" in location else "?"
request("PUT", "%s%sdigest=%s" % (location, sep, digest(config_bytes)), body=config_bytes,
        headers={"Content-Type": "application/octet-stream"})
manifest["config"] = dict(manifest["config"], digest=digest(config_bytes), size=len(config_bytes))
arm64 = json.dumps(manifest).encode()
request("PUT", "%s/manifests/arm64" % BASE, body=arm64, headers={"Content-Type": OCI_MANIFEST})
index = {
    "schemaVersion": 2,
    "mediaType": OCI_INDEX,
    "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": digest(amd64), "size": len(amd64),
         "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": OCI_MANIFEST, "digest": digest(arm64), "size": len(arm64),
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
    ],
}
index_bytes = json.dumps(index).encode()
request("PUT", "%s/manifests/multi" % BASE, body=index_bytes, headers={"Content-Type": OCI_INDEX})
print(digest(config_bytes))
print(digest(index_bytes))
