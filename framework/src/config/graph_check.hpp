#pragma once
// The graph checks shared by the YAML loader (which knows where each key is)
// and validate_graph (for specs built in code).

#include "config/reporter.hpp"

#include <weir/spec.hpp>

#include <vector>

namespace weir::config {

// Where the parts of one stage are written; every place defaults to the stage's.
struct StagePlaces {
  Place stage;
  Place kind;
  Place replicas;
  Place capacity;
  Place when;
  Place lanes;
  Place weights;
  Place dead_letter;
  std::vector<Place> inputs;      // one per input
  std::vector<Place> lane_items;  // one per lane
  Place when_full;                // the stage's, or the defaults' it took
  Place when_text;                // the first character inside when:'s quotes
  std::vector<Place> lane_when_texts;  // the same for each lane's when:
};

// Places for a spec built in code: each stage's SourcePosition.
std::vector<StagePlaces> places_from_spec(const PipelineSpec& spec, const std::string& file);

void check_graph(const PipelineSpec& spec, const std::vector<StagePlaces>& places, Reporter& reporter);

}  // namespace weir::config
