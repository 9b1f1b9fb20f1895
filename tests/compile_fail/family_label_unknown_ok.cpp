// expect: compiles
// rules and dashboard read label names from the family types.
#include <string>
#include <llmetrics/instrument/catalog.hpp>
#include <llmetrics/operate/detail/family_label.hpp>
int main() { return static_cast<int>(llmetrics::detail::label_of<llmetrics::catalog::errors_total, "model_id">().size()); }
