// The rules the standard plugins share through plugins/common/weir_std, each
// tested once here rather than through every plugin that uses it.

#include <weir_std/acknowledgement_with_reason.hpp>
#include <weir_std/batch_failure.hpp>
#include <weir_std/option_checks.hpp>
#include <weir_std/unfit_message.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

using namespace std::chrono_literals;
using weir::AckFailure;
using weir::weir_std::UnfitMessage;

namespace {

std::string spellings(UnfitMessage first) {
  std::string out;
  for (const auto& [spelling, value] : weir::weir_std::unfit_message_choices(first)) out += std::string(spelling) + " ";
  return out;
}

// Reads what the acknowledgement kept, as a source's destructor would.
class Kept final : public weir::weir_std::AcknowledgementWithReason {
 public:
  std::optional<AckFailure> weightiest() const { return failure(); }
  std::string first_reason() const { return reason(); }
};

}  // namespace

TEST_CASE("unfit messages: the default spelling first, then fail, filter, pass", "[plugins][shared]") {
  CHECK(spellings(UnfitMessage::fail) == "fail filter pass ");
  CHECK(spellings(UnfitMessage::filter) == "filter fail pass ");
  CHECK(spellings(UnfitMessage::pass) == "pass fail filter ");
  for (const auto& [spelling, value] : weir::weir_std::unfit_message_choices(UnfitMessage::filter))
    CHECK(spelling == (value == UnfitMessage::fail ? "fail" : value == UnfitMessage::filter ? "filter" : "pass"));
}

TEST_CASE("unfit messages: pass keeps, filter drops, fail throws the reason, made only then", "[plugins][shared]") {
  int asked = 0;
  auto why = [&] {
    ++asked;
    return std::string("not a syslog message: at byte 3");
  };
  CHECK(weir::weir_std::keep_unfit(UnfitMessage::pass, why));
  CHECK_FALSE(weir::weir_std::keep_unfit(UnfitMessage::filter, why));
  CHECK(asked == 0);
  try {
    weir::weir_std::keep_unfit(UnfitMessage::fail, why);
    FAIL("fail did not throw");
  } catch (const weir::PermanentError& e) {
    CHECK(std::string(e.what()) == "not a syslog message: at byte 3");
  }
  CHECK(asked == 1);
}

TEST_CASE("a batch's failure names how many failed and the first reason", "[plugins][shared]") {
  CHECK(weir::weir_std::batch_failure_text("producing to Kafka", 1, 1, "Broker: Message size too large") ==
        "producing to Kafka failed: Broker: Message size too large");
  CHECK(weir::weir_std::batch_failure_text("publishing to JetStream", 2, 5, "timeout") ==
        "publishing to JetStream failed for 2 of 5 messages: timeout");
}

TEST_CASE("an acknowledgement keeps the first reason and the weightiest failure", "[plugins][shared]") {
  Kept none;
  CHECK_FALSE(none.weightiest().has_value());
  CHECK(none.first_reason().empty());
  Kept ack;
  ack.fail(AckFailure::failed, "the endpoint answered 400");
  ack.fail(AckFailure::abandoned, "the stop was forced");
  ack.fail(AckFailure::dropped, "the channel was full");
  CHECK(ack.weightiest() == AckFailure::abandoned);
  CHECK(ack.first_reason() == "the endpoint answered 400");
}

TEST_CASE("a duration as a client library's milliseconds is at least 1", "[plugins][shared]") {
  CHECK(weir::weir_std::milliseconds(0ns) == 1);
  CHECK(weir::weir_std::milliseconds(900us) == 1);
  CHECK(weir::weir_std::milliseconds(2500us) == 2);
  CHECK(weir::weir_std::milliseconds(5s) == 5000);
}
