// expect-error: llmetrics: sanity check, the compile-fail runner sees static_assert messages
// Sanity pair for the compile-fail machinery itself: no llmetrics headers involved.
template <class T>
inline constexpr bool always_false_v = false;

template <class T>
struct sanity {
    static_assert(always_false_v<T>,
                  "llmetrics: sanity check, the compile-fail runner sees static_assert messages");
};

int main() {
    sanity<int> s;
    (void)s;
}
