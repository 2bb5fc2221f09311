#ifndef STRATA_CLI_TEMPLATE_FUNCS_H_
#define STRATA_CLI_TEMPLATE_FUNCS_H_

// The functions templates call (cli/template.h), and Go's notions of truth and type names.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/template.h"

namespace strata::cli::template_internal {

// Go's truth: false, 0, "", nil and empty slices and maps are false.
bool Truth(const Json& value);

// The Go type a JSON value decodes to, for errors: "string", "[]interface {}", ...
std::string GoTypeName(const Json& value);

// Calls a function by name. header: docker's HeaderFunctions (each returns its first
// argument). Errors: INVALID_ARGUMENT with Go's "error calling NAME: ..." or "wrong number
// of args for NAME: want N got M".
absl::StatusOr<Json> CallFunction(const std::string& name, const std::vector<Json>& args,
                                  bool header);

}  // namespace strata::cli::template_internal

#endif  // STRATA_CLI_TEMPLATE_FUNCS_H_
