#include <weir/message.hpp>

#include <catch2/catch.hpp>

TEST_CASE("attributes keep one value per key", "[sdk]") {
  weir::Attributes attrs{{"kind", "email"}};
  attrs.set("kind", "report");
  attrs.set("level", "info");
  CHECK(attrs.size() == 2);
  CHECK(attrs.get("kind") == "report");
  CHECK(attrs.get("missing", "none") == "none");
  CHECK(attrs.erase("kind"));
  CHECK_FALSE(attrs.erase("kind"));
  CHECK(attrs.find("kind") == nullptr);
}

TEST_CASE("a message moves without copying its payload", "[sdk]") {
  weir::Message m("hello world, long enough to live on the heap for sure");
  const char* data = m.payload.data();
  weir::Message moved = std::move(m);
  CHECK(moved.payload.data() == data);
  CHECK(moved.ack == nullptr);
}
