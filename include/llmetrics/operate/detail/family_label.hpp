#pragma once
// Label names read from a family type, checked when compiled: the rules and the
// dashboard name the labels they group and filter by through these, so renaming
// a label in the catalog cannot leave a query behind that matches nothing.
//
//     detail::label_of<catalog::errors_total, "model_id">()          // "model_id"
//     detail::labels_of<catalog::errors_total, "error_type", "model_id">()

#include <string>
#include <vector>

#include "../../core/fixed_string.hpp"

namespace llmetrics::detail {

template <class F, fixed_string Name>
std::string label_of() {
    static_assert(F::label_names::index_of(Name.view()) < F::label_names::size,
                  "llmetrics: the family has no label of this name; use one of the names in its labels<...>");
    return std::string(Name.view());
}

template <class F, fixed_string... Names>
std::vector<std::string> labels_of() {
    return {label_of<F, Names>()...};
}

}  // namespace llmetrics::detail
