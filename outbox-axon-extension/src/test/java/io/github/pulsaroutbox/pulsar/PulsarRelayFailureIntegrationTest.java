package io.github.pulsaroutbox.pulsar;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.common.transaction.NoTransactionManager;
import io.github.pulsaroutbox.BrokerAdmin;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.H2OutboxStores;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxRow;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.operations.OutboxOperations;
import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.relay.BackoffFailurePolicy;
import io.github.pulsaroutbox.relay.SegmentClaims;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.HashMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Bad input on the real broker: an unknown topic, a topic that refuses producers, a payload over the broker's size
 * limit. Each parks its row at once with a clear error (nothing is lost, nothing is marked sent), the rows behind it
 * wait, other aggregates keep flowing, and an operator's retry releases the parked row and those behind it in order.
 * On H2 here, on PostgreSQL in {@link PostgresPulsarRelayFailureIntegrationTest}.
 */
class PulsarRelayFailureIntegrationTest {

    private final String tenant = "t" + UUID.randomUUID().toString().substring(0, 8);
    private final String unknownTopic = "persistent://" + tenant + "/ns/orders";
    private final String fineTopic = "persistent://public/default/fine-" + UUID.randomUUID();
    private final String terminatedTopic = "persistent://public/default/terminated-" + UUID.randomUUID();

    private PulsarClient client;
    private JdbcOutboxStore store;
    private PulsarOutboxPublisher publisher;
    private OutboxRelay relay;
    private OutboxOperations operations;

    @BeforeEach
    void setUp() throws Exception {
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl())
                             .operationTimeout(5, TimeUnit.SECONDS).build();
        store = newStore();
        publisher = PulsarOutboxPublisher.builder().pulsarClient(client).sendTimeout(Duration.ofSeconds(5)).build();
        relay = OutboxRelay.builder()
                           .store(store)
                           .publisher(publisher)
                           .topicResolver(PulsarTopicResolver.builder()
                                                             .map("Unknown", unknownTopic)
                                                             .map("Fine", fineTopic)
                                                             .map("Terminated", terminatedTopic)
                                                             .build()::resolve)
                           .pollInterval(Duration.ofMillis(200))
                           .ackTimeout(Duration.ofSeconds(20))
                           .build();
        operations = new OutboxOperations(store, NoTransactionManager.instance(), relay::rescan, OutboxMetrics.NOOP,
                                          Clock.systemUTC());
    }

    @AfterEach
    void tearDown() throws Exception {
        relay.shutdown();
        publisher.close();
        client.close();
        dropStore();
    }

    /** The store these tests run on: H2 here, PostgreSQL in {@link PostgresPulsarRelayFailureIntegrationTest}. */
    JdbcOutboxStore newStore() {
        return H2OutboxStores.newStore("relay-failure");
    }

    void dropStore() throws Exception {
    }

    @Test
    void unknownTopicParksWhileOthersFlowAndAnOperatorRetryDeliversInOrder() throws Exception {
        store.append(IntStream.range(0, 5).mapToObj(i -> entry("Unknown", "u-1", i, "{}")).toList());
        store.append(IntStream.range(0, 5).mapToObj(i -> entry("Fine", "f-1", i, "{}")).toList());
        relay.start();

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(store.count(OutboxStatus.SENT)).isEqualTo(5);
            assertThat(store.count(OutboxStatus.FAILED)).isEqualTo(1);
        });
        OutboxOperations.ParkedRow parked = operations.parked(null, null, 0, 10).rows().get(0);
        assertThat(parked.row().entry().id()).isEqualTo("Unknown-u-1-0");
        assertThat(parked.row().entry().failureKind()).isEqualTo(FailureKind.UNKNOWN_TOPIC);
        assertThat(parked.row().entry().attempts()).isEqualTo(1);
        assertThat(parked.row().entry().lastError()).contains("TopicDoesNotExist");
        assertThat(parked.waitingBehind()).isEqualTo(4);
        assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(4);

        // the operator creates the tenant and namespace, then retries: the parked row and those behind it go out
        BrokerAdmin.createNamespace(tenant, "ns");
        try (Consumer<byte[]> consumer = subscribe(unknownTopic)) {
            assertThat(operations.retry("Unknown-u-1-0", "ops-alice", "namespace created")).isTrue();
            await().atMost(Duration.ofSeconds(60))
                   .untilAsserted(() -> assertThat(store.count(OutboxStatus.SENT)).isEqualTo(10));
            assertThat(sequences(consumer, 5)).containsExactly(0L, 1L, 2L, 3L, 4L);
        }
        OutboxRow retried = store.find("Unknown-u-1-0").orElseThrow();
        assertThat(retried.action()).isEqualTo("RETRIED");
        assertThat(retried.actionBy()).isEqualTo("ops-alice");
        assertThat(retried.actionReason()).isEqualTo("namespace created");
    }

    @Test
    void topicThatRefusesProducersParksAsRefused() throws Exception {
        try (var producer = client.newProducer().topic(terminatedTopic).create()) {
            producer.send("first".getBytes());
        }
        BrokerAdmin.send("POST", "/admin/v2/persistent/public/default/" + terminatedTopic.substring(
                terminatedTopic.lastIndexOf('/') + 1) + "/terminate", "");
        store.append(List.of(entry("Terminated", "t-1", 0, "{}"), entry("Fine", "f-2", 0, "{}")));
        relay.start();

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(store.find("Terminated-t-1-0").orElseThrow().entry().status()).isEqualTo(OutboxStatus.FAILED);
            assertThat(store.find("Fine-f-2-0").orElseThrow().entry().status()).isEqualTo(OutboxStatus.SENT);
        });
        OutboxEntry refused = store.find("Terminated-t-1-0").orElseThrow().entry();
        assertThat(refused.failureKind()).isEqualTo(FailureKind.REFUSED);
        assertThat(refused.lastError()).containsIgnoringCase("terminated");
    }

    @Test
    void payloadOverTheBrokersSizeLimitParksWithoutBlockingOthers() throws Exception {
        String huge = "{\"blob\":\"" + "x".repeat(6 * 1024 * 1024) + "\"}"; // broker default limit: 5 MiB
        store.append(List.of(entry("Fine", "big", 0, huge), entry("Fine", "big", 1, "{}"),
                             entry("Fine", "small", 0, "{}")));
        relay.start();

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(store.find("Fine-big-0").orElseThrow().entry().status()).isEqualTo(OutboxStatus.FAILED);
            assertThat(store.find("Fine-small-0").orElseThrow().entry().status()).isEqualTo(OutboxStatus.SENT);
        });
        OutboxEntry tooLarge = store.find("Fine-big-0").orElseThrow().entry();
        assertThat(tooLarge.failureKind()).isEqualTo(FailureKind.MESSAGE_TOO_LARGE);
        assertThat(tooLarge.lastError()).contains("size");
        assertThat(store.find("Fine-big-1").orElseThrow().entry().status()).isEqualTo(OutboxStatus.PENDING);

        // discarding the oversized event (recorded) releases the one behind it
        assertThat(operations.discard("Fine-big-0", "ops-bob", "too large; re-published by hand")).isTrue();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                store.find("Fine-big-1").orElseThrow().entry().status()).isEqualTo(OutboxStatus.SENT));
        assertThat(store.find("Fine-big-0").orElseThrow().entry().status()).isEqualTo(OutboxStatus.DISCARDED);
    }

    /**
     * A topic policy the broker checks per message ({@code max-message-size}) rejects one message alone: the
     * message after it on the same producer would be stored. The relay keeps one unacknowledged send per aggregate,
     * so the next row of that aggregate is never sent after a rejected one. An independent reader of the topic, from
     * the earliest message, sees every aggregate's events without a gap and in order.
     */
    @Test
    void messageRejectedAloneByATopicPolicyIsNeverOvertakenByTheNextRowOfItsAggregate() throws Exception {
        String name = "limited-" + UUID.randomUUID();
        String topic = "persistent://public/default/" + name;
        BrokerAdmin.send("PUT", "/admin/v2/persistent/public/default/" + name, "");
        limitMessageSize("/admin/v2/persistent/public/default/" + name, 10240);
        OutboxRelay limited = OutboxRelay.builder()
                                         .store(store)
                                         .publisher(publisher)
                                         .topicResolver((type, annotated) -> Optional.of(topic))
                                         .pollInterval(Duration.ofMillis(200))
                                         .ackTimeout(Duration.ofSeconds(20))
                                         .build();
        String big = "{\"blob\":\"" + "x".repeat(20_000) + "\"}"; // over the topic's limit, under the broker's
        List<OutboxEntry> rows = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            rows.add(entry("Limited", "a", i, i == 1 ? big : "{}"));
            rows.add(entry("Limited", "b", i, "{}"));
        }
        rows.add(entry("Limited", "c", 0, "{}"));
        store.append(rows);
        try (Consumer<byte[]> reader = subscribe(topic)) {
            limited.start();
            try {
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                    assertThat(store.find("Limited-a-1").orElseThrow().entry().status())
                            .isEqualTo(OutboxStatus.FAILED);
                    assertThat(store.count(OutboxStatus.SENT)).isEqualTo(5); // a0, b0-b2, c0
                });
            } finally {
                limited.shutdown();
            }
            assertThat(store.find("Limited-a-1").orElseThrow().entry().failureKind()).isEqualTo(FailureKind.REFUSED);
            assertThat(store.find("Limited-a-2").orElseThrow().entry().status()).isEqualTo(OutboxStatus.PENDING);
            Map<String, List<Long>> delivered = new HashMap<>();
            Message<byte[]> message;
            while ((message = reader.receive(3, TimeUnit.SECONDS)) != null) {
                delivered.computeIfAbsent(message.getKey(), k -> new ArrayList<>()).add(Long.parseLong(
                        message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE)));
            }
            assertThat(delivered).containsOnly(Map.entry("a", List.of(0L)), Map.entry("b", List.of(0L, 1L, 2L)),
                                               Map.entry("c", List.of(0L)));
        }
    }

    /**
     * With broker deduplication on, a row refused alone (the topic's size limit) while a later row of another
     * aggregate in the same segment is stored under the same producer name must not be retried with its old sequence
     * id: the broker would drop it as a duplicate (it is below the last stored id) and it would be lost while marked
     * SENT. Retried after the limit was raised, it gets a new, higher id and arrives.
     */
    @Test
    void rowRefusedBeforeALaterStoredOneGetsAHigherSequenceIdWhenRetriedAndArrivesWithDeduplicationOn()
            throws Exception {
        String namespace = "dedup-" + UUID.randomUUID().toString().substring(0, 8);
        BrokerAdmin.send("PUT", "/admin/v2/namespaces/public/" + namespace, "{}");
        BrokerAdmin.send("POST", "/admin/v2/namespaces/public/" + namespace + "/deduplication", "true");
        String name = "refused-" + UUID.randomUUID();
        String path = "/admin/v2/persistent/public/" + namespace + "/" + name;
        String topic = "persistent://public/" + namespace + "/" + name;
        BrokerAdmin.send("PUT", path, "");
        limitMessageSize(path, 10240);
        int segments = store.segmentCount();
        String other = IntStream.range(0, 10_000).mapToObj(i -> "b" + i)
                                .filter(id -> OutboxSegments.of(id, segments) == OutboxSegments.of("a", segments))
                                .findFirst().orElseThrow(); // same segment, so the same producer name
        OutboxRelay deduplicated = OutboxRelay.builder()
                                              .store(store)
                                              .publisher(publisher)
                                              .topicResolver((type, annotated) -> Optional.of(topic))
                                              .pollInterval(Duration.ofMillis(200))
                                              .ackTimeout(Duration.ofSeconds(20))
                                              .segmentClaims(SegmentClaims.builder()
                                                                          .tokenStore(new InMemoryTokenStore())
                                                                          .segmentCount(segments)
                                                                          .build())
                                              .build();
        store.append(List.of(entry("Refused", "a", 0, "{\"blob\":\"" + "x".repeat(20_000) + "\"}")));
        store.append(List.of(entry("Refused", other, 0, "{}"), entry("Refused", other, 1, "{}")));
        try (Consumer<byte[]> reader = subscribe(topic)) {
            deduplicated.start();
            try {
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                    assertThat(store.find("Refused-a-0").orElseThrow().entry().status())
                            .isEqualTo(OutboxStatus.FAILED);
                    assertThat(store.count(OutboxStatus.SENT)).isEqualTo(2);
                });
                long laterStored = store.find("Refused-" + other + "-1").orElseThrow().entry().brokerSequence();
                assertThat(laterStored).isPositive();
                assertThat(store.find("Refused-a-0").orElseThrow().entry().brokerSequence())
                        .as("a refused row keeps no sequence id").isEqualTo(OutboxEntry.NO_SEQUENCE);

                limitMessageSize(path, 1048576);
                assertThat(operations.retry("Refused-a-0", "ops", "limit raised")).isTrue();
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
                        store.find("Refused-a-0").orElseThrow().entry().status()).isEqualTo(OutboxStatus.SENT));
                assertThat(store.find("Refused-a-0").orElseThrow().entry().brokerSequence())
                        .isGreaterThan(laterStored);
            } finally {
                deduplicated.shutdown();
            }
            Map<String, List<Long>> delivered = new HashMap<>();
            Message<byte[]> message;
            while ((message = reader.receive(3, TimeUnit.SECONDS)) != null) {
                delivered.computeIfAbsent(message.getKey(), k -> new ArrayList<>()).add(Long.parseLong(
                        message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE)));
            }
            assertThat(delivered).containsOnly(Map.entry("a", List.of(0L)), Map.entry(other, List.of(0L, 1L)));
        }
    }

    /**
     * A client whose memory limit holds only a few messages (as when other producers share the application's client):
     * sends past it are refused at once ({@link FailureKind#BUSY}), never blocking the relay's thread, never parked,
     * and retried with new sequence ids (the broker never saw them) until every row is stored once, in order per key.
     */
    @Test
    void sendsPastTheClientsMemoryLimitAreRetriedUntilThereIsRoomNeverParked() throws Exception {
        String namespace = "busy-" + UUID.randomUUID().toString().substring(0, 8);
        BrokerAdmin.send("PUT", "/admin/v2/namespaces/public/" + namespace, "{}");
        BrokerAdmin.send("POST", "/admin/v2/namespaces/public/" + namespace + "/deduplication", "true");
        String topic = "persistent://public/" + namespace + "/busy-" + UUID.randomUUID();
        String blob = "{\"blob\":\"" + "x".repeat(3000) + "\"}";
        List<OutboxEntry> rows = new ArrayList<>();
        for (int sequence = 0; sequence < 4; sequence++) {
            for (int aggregate = 0; aggregate < 10; aggregate++) {
                rows.add(entry("Busy", "k" + aggregate, sequence, blob));
            }
        }
        store.append(rows);
        try (PulsarClient small = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl())
                                              .memoryLimit(8, org.apache.pulsar.client.api.SizeUnit.KILO_BYTES)
                                              .build();
             PulsarOutboxPublisher busy = PulsarOutboxPublisher.builder().pulsarClient(small)
                                                               .sendTimeout(Duration.ofSeconds(5)).build();
             Consumer<byte[]> reader = subscribe(topic)) {
            OutboxRelay limited = OutboxRelay.builder()
                                             .store(store)
                                             .publisher(busy)
                                             .topicResolver((type, annotated) -> Optional.of(topic))
                                             .pollInterval(Duration.ofMillis(100))
                                             .ackTimeout(Duration.ofSeconds(20))
                                             .failurePolicy(BackoffFailurePolicy.builder()
                                                                                .initialDelay(Duration.ofMillis(50))
                                                                                .maxDelay(Duration.ofMillis(200))
                                                                                .maxAttempts(1)
                                                                                .build())
                                             .segmentClaims(SegmentClaims.builder()
                                                                         .tokenStore(new InMemoryTokenStore())
                                                                         .segmentCount(store.segmentCount())
                                                                         .build())
                                             .build();
            limited.start();
            try {
                await().atMost(Duration.ofSeconds(90))
                       .untilAsserted(() -> assertThat(store.count(OutboxStatus.SENT)).isEqualTo(rows.size()));
            } finally {
                limited.shutdown();
            }
            assertThat(store.count(OutboxStatus.FAILED)).as("one attempt allowed, yet none parked").isZero();
            assertThat(rows.stream().mapToInt(row -> store.find(row.id()).orElseThrow().entry().attempts()).sum())
                    .as("sends were refused for want of room").isPositive();
            Map<String, List<Long>> delivered = new HashMap<>();
            Message<byte[]> message;
            while ((message = reader.receive(3, TimeUnit.SECONDS)) != null) {
                delivered.computeIfAbsent(message.getKey(), k -> new ArrayList<>()).add(Long.parseLong(
                        message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE)));
            }
            assertThat(delivered).hasSize(10).allSatisfy((key, sequences) -> assertThat(sequences)
                    .as("key " + key).containsExactly(0L, 1L, 2L, 3L));
        }
    }

    /** Sets a topic's max-message-size policy and waits until the broker applies it. */
    private static void limitMessageSize(String topicPath, int bytes) {
        BrokerAdmin.send("POST", topicPath + "/maxMessageSize", Integer.toString(bytes));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                BrokerAdmin.send("GET", topicPath + "/maxMessageSize", null).body()).isEqualTo(Integer.toString(bytes)));
    }

    private Consumer<byte[]> subscribe(String topic) throws Exception {
        return client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("check")
                     .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
    }

    private static List<Long> sequences(Consumer<byte[]> consumer, int count) throws Exception {
        List<Long> sequences = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Message<byte[]> message = consumer.receive(10, TimeUnit.SECONDS);
            assertThat(message).isNotNull();
            sequences.add(Long.parseLong(message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE)));
        }
        return sequences;
    }

    private static OutboxEntry entry(String type, String aggregateId, long sequence, String payload) {
        return OutboxEntry.pending(type + "-" + aggregateId + "-" + sequence, Instant.now(), "Evt", type, aggregateId,
                                   sequence, payload, "{}", "0", null);
    }
}
