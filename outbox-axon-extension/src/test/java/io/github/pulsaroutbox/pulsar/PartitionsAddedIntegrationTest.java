package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.BrokerAdmin;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.relay.SegmentClaims;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An operator adds partitions to an outbox topic while rows of it have sequence ids whose outcome is unknown. The
 * relay that takes over resolves each such row against the partition it was sent to (stored with its id), not the
 * one its key routes to now: a row the broker had stored is recorded SENT, not sent again into the new partition (a
 * duplicate), and a row it had not stored is sent, once. On the real broker, with deduplication on.
 */
class PartitionsAddedIntegrationTest {

    private final String namespace = "partitions-" + UUID.randomUUID().toString().substring(0, 8);
    private final String name = "orders-" + UUID.randomUUID().toString().substring(0, 8);
    private final String topic = "persistent://public/" + namespace + "/" + name;
    private final String topicPath = "/admin/v2/persistent/public/" + namespace + "/" + name;
    private final JdbcDataSource dataSource = new JdbcDataSource();
    private final InMemoryTokenStore tokenStore = new InMemoryTokenStore();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private JdbcOutboxStore store;
    private PulsarClient client;

    @AfterEach
    void close() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void rowsOfUnknownOutcomeAreResolvedAgainstThePartitionTheyWereSentTo() throws Exception {
        BrokerAdmin.send("PUT", "/admin/v2/namespaces/public/" + namespace, "{}");
        BrokerAdmin.send("POST", "/admin/v2/namespaces/public/" + namespace + "/deduplication", "true");
        BrokerAdmin.send("PUT", topicPath + "/partitions", "2");
        dataSource.setURL("jdbc:h2:mem:partitions-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        store = JdbcOutboxStore.builder().connectionProvider(dataSource::getConnection).build();
        store.createSchema();
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl())
                             .operationTimeout(10, TimeUnit.SECONDS).build();
        toClose.add(client);
        // keys that move from partition p (of 2) to partition p + 2 (of 4) when partitions are added
        List<String> moving = IntStream.range(0, 10_000).mapToObj(i -> "order-" + i)
                                       .filter(key -> SegmentProducers.partitionOf(key, 4)
                                               != SegmentProducers.partitionOf(key, 2))
                                       .limit(12).toList();
        for (String key : moving) {
            store.append(List.of(entry(key, 0), entry(key, 1)));
        }

        OutboxRelay first = relay();
        first.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> store.count(OutboxStatus.SENT) == 24);
        first.shutdown();

        // as a crash would leave them: one row the broker stored whose SENT was never recorded, and one row that got
        // an id (and the partition its key routed to then) but never reached the broker
        String stored = moving.get(0);
        reopen(id(stored, 1));
        String neverSent = moving.get(1);
        store.append(List.of(entry(neverSent, 2)));
        int segment = OutboxSegments.of(neverSent, store.segmentCount());
        long above = maxSequence(segment) + 1;
        store.assignSequences(Map.of(id(neverSent, 2), above),
                              Map.of(id(neverSent, 2), SegmentProducers.partitionOf(neverSent, 2)));
        BrokerAdmin.send("POST", topicPath + "/partitions", "4");
        await().atMost(Duration.ofSeconds(30)).until(() -> client.getPartitionsForTopic(topic).get().size() == 4);
        for (String key : moving) {
            store.append(List.of(entry(key, key.equals(neverSent) ? 3 : 2)));
        }

        OutboxRelay second = relay();
        second.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> store.count(OutboxStatus.PENDING) == 0);
        second.shutdown();

        assertThat(store.find(id(stored, 1)).orElseThrow().entry().status()).isEqualTo(OutboxStatus.SENT);
        Map<String, List<Long>> delivered = readAll();
        assertThat(delivered).hasSize(moving.size());
        moving.forEach(key -> assertThat(delivered.get(key))
                .as("each event of %s once", key)
                .containsExactlyInAnyOrderElementsOf(key.equals(neverSent) ? List.of(0L, 1L, 2L, 3L)
                                                                           : List.of(0L, 1L, 2L)));
    }

    private OutboxRelay relay() throws Exception {
        PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder().pulsarClient(client)
                                                               .sendTimeout(Duration.ofSeconds(5)).build();
        toClose.add(publisher);
        return OutboxRelay.builder()
                          .store(store)
                          .publisher(publisher)
                          .topicResolver((type, annotated) -> Optional.of(topic))
                          .pollInterval(Duration.ofMillis(200))
                          .ackTimeout(Duration.ofSeconds(20))
                          .segmentClaims(SegmentClaims.builder().tokenStore(tokenStore).nodeId("node")
                                                      .segmentCount(store.segmentCount()).build())
                          .build();
    }

    /** Every message on the topic's partitions, by key: the aggregate sequences delivered. */
    private Map<String, List<Long>> readAll() throws Exception {
        Map<String, List<Long>> delivered = new HashMap<>();
        try (Consumer<byte[]> reader = client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("audit")
                                             .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                             .subscribe()) {
            Message<byte[]> message;
            while ((message = reader.receive(3, TimeUnit.SECONDS)) != null) {
                delivered.computeIfAbsent(message.getKey(), k -> new ArrayList<>()).add(Long.parseLong(
                        message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE)));
                reader.acknowledge(message);
            }
        }
        return delivered;
    }

    private void reopen(String id) throws Exception {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement update = connection.prepareStatement(
                     "UPDATE " + JdbcOutboxStore.DEFAULT_TABLE + " SET status = 'PENDING', sent_at = NULL WHERE id = ?")) {
            update.setString(1, id);
            assertThat(update.executeUpdate()).isEqualTo(1);
        }
    }

    private long maxSequence(int segment) throws Exception {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement select = connection.prepareStatement(
                     "SELECT MAX(broker_sequence) FROM " + JdbcOutboxStore.DEFAULT_TABLE + " WHERE segment = ?")) {
            select.setInt(1, segment);
            try (ResultSet rs = select.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static String id(String key, long sequence) {
        return key + "-" + sequence;
    }

    private static OutboxEntry entry(String key, long sequence) {
        return OutboxEntry.pending(id(key, sequence), Instant.now(), "Evt", "Order", key, sequence, "{}", "{}", "0",
                                   null);
    }
}
