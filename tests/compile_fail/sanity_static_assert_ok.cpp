// expect: compiles
// Sanity pair for the compile-fail machinery itself: the same shape, but valid.
template <class T>
inline constexpr bool always_true_v = true;

template <class T>
struct sanity {
    static_assert(always_true_v<T>,
                  "llmetrics: sanity check, the compile-fail runner sees static_assert messages");
};

int main() {
    sanity<int> s;
    (void)s;
}
