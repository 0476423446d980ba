// A Kafka cluster for the integration tests: librdkafka's mock cluster
// (in-process brokers on 127.0.0.1, consumer groups and offset commits
// included), kept up until standard input closes.
//
//   kafka_mock_cluster [--brokers N] [--topic NAME:PARTITIONS]...
//
// Prints `bootstrap HOST:PORT,...` once the cluster is up, then answers
// commands read from standard input, one per line, with one line each:
//   committed GROUP TOPIC   {"partitions": [{"partition": 0, "committed": C, "high": H}, ...]}
//                           (committed -1: none; the group's committed offset and the
//                           partition's high watermark, read by a client of its own)
//   topic_error TOPIC CODE  ok: the brokers answer CODE (a Kafka error number) about TOPIC
//   down                    ok: every broker stops answering (connections are closed)

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "kafka_mock_cluster: " << what << '\n';
  std::exit(2);
}

rd_kafka_t* client(rd_kafka_type_t type, const std::vector<std::pair<std::string, std::string>>& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [key, value] : properties)
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK)
      fail(key + ": " + error);
  rd_kafka_t* handle = rd_kafka_new(type, conf, error, sizeof error);
  if (!handle) fail(std::string("creating a client: ") + error);
  return handle;
}

std::string committed(const std::string& bootstrap, const std::string& group, const std::string& topic) {
  rd_kafka_t* consumer = client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap}, {"group.id", group}});
  rd_kafka_topic_t* handle = rd_kafka_topic_new(consumer, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t error = rd_kafka_metadata(consumer, 0, handle, &metadata, 5000);
  std::ostringstream out;
  if (error || metadata->topic_cnt != 1 || metadata->topics[0].err) {
    out << "{\"error\": \"metadata: "
        << rd_kafka_err2str(error ? error : metadata->topic_cnt ? metadata->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
        << "\"}";
  } else {
    const int count = metadata->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(count);
    for (int p = 0; p < count; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
    error = rd_kafka_committed(consumer, list, 5000);
    if (error) {
      out << "{\"error\": \"committed: " << rd_kafka_err2str(error) << "\"}";
    } else {
      out << "{\"partitions\": [";
      for (int p = 0; p < count; ++p) {
        std::int64_t low = 0, high = 0;
        rd_kafka_resp_err_t marks = rd_kafka_query_watermark_offsets(consumer, topic.c_str(), p, &low, &high, 5000);
        if (marks) high = -2;
        out << (p ? ", " : "") << "{\"partition\": " << p << ", \"committed\": "
            << (list->elems[p].offset < 0 ? -1 : list->elems[p].offset) << ", \"high\": " << high << "}";
      }
      out << "]}";
    }
    rd_kafka_topic_partition_list_destroy(list);
  }
  if (metadata) rd_kafka_metadata_destroy(metadata);
  rd_kafka_topic_destroy(handle);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
    } else if (arg == "--topic" && i + 1 < argc) {
      const std::string spec = argv[++i];
      const auto colon = spec.rfind(':');
      if (colon == std::string::npos) fail("--topic NAME:PARTITIONS, not " + spec);
      topics.emplace_back(spec.substr(0, colon), std::atoi(spec.c_str() + colon + 1));
    } else {
      fail("usage: kafka_mock_cluster [--brokers N] [--topic NAME:PARTITIONS]...");
    }
  }
  // The mock cluster needs a client instance for its book keeping.
  rd_kafka_t* keeper = client(RD_KAFKA_PRODUCER, {{"log_level", "3"}});
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(keeper, brokers);
  if (!cluster) fail("the mock cluster did not start");
  for (const auto& [name, partitions] : topics)
    if (rd_kafka_resp_err_t error =
            rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, std::min(brokers, 3)))
      fail("creating topic " + name + ": " + rd_kafka_err2str(error));
  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
  std::cout << "bootstrap " << bootstrap << std::endl;

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream words(line);
    std::string command;
    words >> command;
    if (command == "committed") {
      std::string group, topic;
      words >> group >> topic;
      std::cout << committed(bootstrap, group, topic) << std::endl;
    } else if (command == "topic_error") {
      std::string topic;
      int code = 0;
      words >> topic >> code;
      rd_kafka_mock_topic_set_error(cluster, topic.c_str(), static_cast<rd_kafka_resp_err_t>(code));
      std::cout << "ok" << std::endl;
    } else if (command == "down") {
      for (int id = 1; id <= brokers; ++id) rd_kafka_mock_broker_set_down(cluster, id);
      std::cout << "ok" << std::endl;
    } else if (!command.empty()) {
      std::cout << "unknown command " << command << std::endl;
    }
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(keeper);
  return 0;
}
