#pragma once
// Asynchronous results, observed: which types are std::futures or awaitables,
// call_observed (run a call, report its outcome, hand back its result or its
// exception unchanged), and the wrappers that record a call when its future's
// get() or its awaitable's resumption delivers the outcome. `Scope` is the call
// in progress (instrument/detail/call_scope.hpp): succeed(result...), fail(),
// mark_end(), done().

#include <chrono>
#include <concepts>
#include <coroutine>
#include <future>
#include <type_traits>
#include <utility>

namespace llmetrics::detail {

template <class T>
struct future_value {};
template <class T>
struct future_value<std::future<T>> {
    using type = T;
};
template <class T>
concept std_future = requires { typename future_value<std::remove_cvref_t<T>>::type; };

template <class A>
concept has_member_co_await = requires(A&& a) { static_cast<A&&>(a).operator co_await(); };
template <class A>
concept has_free_co_await = requires(A&& a) { operator co_await(static_cast<A&&>(a)); };
template <class A>
concept is_awaiter = requires(A& a) {
    { a.await_ready() } -> std::convertible_to<bool>;
    a.await_resume();
};
template <class A>
concept awaitable = has_member_co_await<A> || has_free_co_await<A> || is_awaiter<std::remove_reference_t<A>>;

template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (has_member_co_await<A>) return static_cast<A&&>(a).operator co_await();
    else if constexpr (has_free_co_await<A>) return operator co_await(static_cast<A&&>(a));
    else return static_cast<A&&>(a);
}

// Returns fn()'s result as fn returned it (a reference stays a reference), after
// on_success(result) (or on_success() for void); when fn throws, on_failure()
// runs and the same exception propagates.
template <class Fn, class OnFailure, class OnSuccess>
decltype(auto) call_observed(Fn&& fn, OnFailure&& on_failure, OnSuccess&& on_success) {
    using result_t = decltype(std::forward<Fn>(fn)());
    if constexpr (std::is_void_v<result_t>) {
        try {
            std::forward<Fn>(fn)();
        } catch (...) {
            on_failure();
            throw;
        }
        on_success();
    } else {
        auto call = [&]() -> result_t {
            try {
                return std::forward<Fn>(fn)();
            } catch (...) {
                on_failure();
                throw;
            }
        };
        result_t result = call();
        on_success(result);
        if constexpr (std::is_reference_v<result_t>) return static_cast<result_t>(result);
        else return result;
    }
}

// A std::future<T> whose outcome is recorded when get() returns or throws.
// The duration ends when the result is first seen: a wait(), wait_for() or
// wait_until() that finds it ready, or else get(). Destroyed without get(),
// a ready result is read and recorded; a pending one records "Abandoned".
template <class T, class Scope>
class observed_future {
public:
    observed_future(std::future<T> inner, Scope s) noexcept : inner_(std::move(inner)), scope_(std::move(s)) {}
    observed_future(observed_future&&) noexcept = default;
    observed_future& operator=(observed_future&&) = delete;
    ~observed_future() {
        if (scope_.done() || !inner_.valid()) return;
        if (inner_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;  // scope: Abandoned
        try {
            if constexpr (std::is_void_v<T>) {
                inner_.get();
                scope_.succeed();
            } else {
                scope_.succeed(inner_.get());
            }
        } catch (...) {
            scope_.fail();
        }
    }

    decltype(auto) get() {
        return call_observed([&]() -> decltype(auto) { return inner_.get(); }, [&] { scope_.fail(); },
                             [&](const auto&... result) { scope_.succeed(result...); });
    }

    bool valid() const noexcept { return inner_.valid(); }
    void wait() {
        inner_.wait();
        scope_.mark_end();
    }
    template <class Rep, class Period>
    std::future_status wait_for(const std::chrono::duration<Rep, Period>& timeout) {
        const auto status = inner_.wait_for(timeout);
        if (status == std::future_status::ready) scope_.mark_end();
        return status;
    }
    template <class Clock, class Duration>
    std::future_status wait_until(const std::chrono::time_point<Clock, Duration>& deadline) {
        const auto status = inner_.wait_until(deadline);
        if (status == std::future_status::ready) scope_.mark_end();
        return status;
    }

private:
    std::future<T> inner_;
    Scope scope_;
};

// Wraps an awaitable: `co_await` it as the original; the outcome is recorded
// when the await resumes (value or exception, which is rethrown unchanged).
template <class A, class Scope>
class observed_awaitable {
public:
    observed_awaitable(A inner, Scope s) noexcept(std::is_nothrow_move_constructible_v<A>)
        : inner_(std::move(inner)), scope_(std::move(s)) {}

    auto operator co_await() & { return make_awaiter(inner_); }
    auto operator co_await() && { return make_awaiter(std::move(inner_)); }

private:
    template <class Inner>
    struct awaiter {
        Inner inner;  // the awaiter, or a reference to the awaitable that is its own awaiter
        Scope* s;

        bool await_ready() { return inner.await_ready(); }
        template <class Promise>
        decltype(auto) await_suspend(std::coroutine_handle<Promise> h) {
            return inner.await_suspend(h);
        }
        decltype(auto) await_resume() {
            return call_observed([&]() -> decltype(auto) { return inner.await_resume(); }, [&] { s->fail(); },
                                 [&](const auto&... result) { s->succeed(result...); });
        }
    };

    template <class Self>
    auto make_awaiter(Self&& self) {
        using inner_t = decltype(get_awaiter(std::forward<Self>(self)));
        return awaiter<inner_t>{get_awaiter(std::forward<Self>(self)), &scope_};
    }

    A inner_;
    Scope scope_;
};

}  // namespace llmetrics::detail
