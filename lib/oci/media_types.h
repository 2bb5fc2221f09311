#ifndef STRATA_LIB_OCI_MEDIA_TYPES_H_
#define STRATA_LIB_OCI_MEDIA_TYPES_H_

namespace strata::oci {

inline constexpr char kMediaTypeLayerTar[] = "application/vnd.oci.image.layer.v1.tar";
inline constexpr char kMediaTypeLayerGzip[] = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr char kMediaTypeLayerZstd[] = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr char kMediaTypeImageConfig[] = "application/vnd.oci.image.config.v1+json";

}  // namespace strata::oci

#endif  // STRATA_LIB_OCI_MEDIA_TYPES_H_
