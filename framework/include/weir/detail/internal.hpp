// Internal to weir. Every header in weir/detail/ includes this one first; it
// has no include guard, so the check runs for each of them.
//
// The headers in weir/detail/ (the ring, the wait queue, the parking
// primitive) are weir's channel machinery: they change without notice, and
// they pull in platform headers (<immintrin.h>, <linux/futex.h>) that only the
// channel headers need. Users include the public headers (weir/channel.hpp,
// weir/lanes.hpp, weir/oneshot.hpp), which open the door around their own
// includes:
//
//   #pragma push_macro("WEIR_DETAIL_INCLUDE_OK")
//   #undef WEIR_DETAIL_INCLUDE_OK
//   #define WEIR_DETAIL_INCLUDE_OK 1
//   #include <weir/detail/...>
//   #pragma pop_macro("WEIR_DETAIL_INCLUDE_OK")
//
// so the door is shut again after them. weir's own tests of the internals
// define WEIR_DETAIL_INCLUDE_OK themselves. tests/headers checks both sides.

#if !defined(WEIR_DETAIL_INCLUDE_OK)
#error "weir/detail/ is internal to weir: include <weir/channel.hpp>, <weir/lanes.hpp> or <weir/oneshot.hpp> instead"
#endif
