#ifndef STRATA_LIB_OCI_MEDIA_TYPES_H_
#define STRATA_LIB_OCI_MEDIA_TYPES_H_

// The media types of OCI image-spec and of docker's image manifest v2 (schema 2).

namespace strata::oci {

inline constexpr char kMediaTypeLayerTar[] = "application/vnd.oci.image.layer.v1.tar";
inline constexpr char kMediaTypeLayerGzip[] = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr char kMediaTypeLayerZstd[] = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr char kMediaTypeImageConfig[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kMediaTypeImageManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kMediaTypeImageIndex[] = "application/vnd.oci.image.index.v1+json";
// Layers that registries may not redistribute ("foreign" layers).
inline constexpr char kMediaTypeLayerNondistributablePrefix[] =
    "application/vnd.oci.image.layer.nondistributable.";

inline constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerManifestList[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kDockerManifestSchema1[] =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr char kDockerManifestSchema1Signed[] =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr char kDockerConfig[] = "application/vnd.docker.container.image.v1+json";
inline constexpr char kDockerLayerGzip[] = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr char kDockerLayerTar[] = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr char kDockerLayerZstd[] = "application/vnd.docker.image.rootfs.diff.tar.zstd";
inline constexpr char kDockerLayerForeignGzip[] =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

}  // namespace strata::oci

#endif  // STRATA_LIB_OCI_MEDIA_TYPES_H_
