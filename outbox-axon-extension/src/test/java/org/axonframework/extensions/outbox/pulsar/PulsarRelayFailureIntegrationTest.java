package org.axonframework.extensions.outbox.pulsar;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.extensions.outbox.OutboxEntry;
import org.axonframework.extensions.outbox.OutboxStatus;
import org.axonframework.extensions.outbox.relay.OutboxRelay;
import org.axonframework.extensions.outbox.store.jdbc.JdbcOutboxStore;
import org.axonframework.extensions.outbox.testbroker.SharedPulsarBroker;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Send failures on the real broker: rows whose topic the broker refuses stay pending with their error (nothing is
 * lost, nothing is marked sent), other aggregates keep flowing, and the refused rows go out in order once the broker
 * accepts the topic.
 */
class PulsarRelayFailureIntegrationTest {

    private final String tenant = "t" + UUID.randomUUID().toString().substring(0, 8);
    private final String refusedTopic = "persistent://" + tenant + "/ns/orders";
    private final String fineTopic = "persistent://public/default/fine-" + UUID.randomUUID();

    private PulsarClient client;
    private JdbcOutboxStore store;
    private PulsarOutboxPublisher publisher;
    private OutboxRelay relay;

    @BeforeEach
    void setUp() throws Exception {
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl())
                             .operationTimeout(5, TimeUnit.SECONDS).build();
        JdbcDataSource dataSource = new JdbcDataSource();
        dataSource.setURL("jdbc:h2:mem:relay-failure-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        store = JdbcOutboxStore.builder().connectionProvider(dataSource::getConnection).build();
        store.createSchema();
        publisher = PulsarOutboxPublisher.builder().pulsarClient(client).sendTimeout(Duration.ofSeconds(5)).build();
        relay = OutboxRelay.builder()
                           .store(store)
                           .publisher(publisher)
                           .topicResolver(PulsarTopicResolver.builder()
                                                             .map("Refused", refusedTopic)
                                                             .map("Fine", fineTopic)
                                                             .build()::resolve)
                           .pollInterval(Duration.ofMillis(200))
                           .ackTimeout(Duration.ofSeconds(20))
                           .build();
    }

    @AfterEach
    void tearDown() throws Exception {
        relay.shutdown();
        publisher.close();
        client.close();
    }

    @Test
    void refusedTopicKeepsRowsPendingWhileOthersFlowAndDeliversThemInOrderOnceAccepted() throws Exception {
        store.append(IntStream.range(0, 5).mapToObj(i -> entry("Refused", "r-1", i)).toList());
        store.append(IntStream.range(0, 5).mapToObj(i -> entry("Fine", "f-1", i)).toList());
        relay.start();

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(store.count(OutboxStatus.SENT)).isEqualTo(5);
            OutboxEntry head = store.find("Refused-r-1-0").orElseThrow();
            assertThat(head.status()).isEqualTo(OutboxStatus.PENDING);
            assertThat(head.attempts()).isGreaterThanOrEqualTo(1);
            assertThat(head.lastError()).isNotBlank();
        });
        assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(5);
        assertThat(store.find("Fine-f-1-4").orElseThrow().status()).isEqualTo(OutboxStatus.SENT);

        // the operator creates the tenant and namespace: the broker now accepts the topic
        admin("/admin/v2/tenants/" + tenant, "{\"allowedClusters\":[\"standalone\"]}");
        admin("/admin/v2/namespaces/" + tenant + "/ns", "{}");

        try (Consumer<byte[]> consumer = client.newConsumer(Schema.BYTES).topic(refusedTopic)
                                               .subscriptionName("check")
                                               .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                               .subscribe()) {
            relay.wakeUp();
            await().atMost(Duration.ofSeconds(60))
                   .untilAsserted(() -> assertThat(store.count(OutboxStatus.SENT)).isEqualTo(10));
            List<Long> sequences = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                Message<byte[]> message = consumer.receive(10, TimeUnit.SECONDS);
                assertThat(message).isNotNull();
                sequences.add(Long.parseLong(message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE)));
            }
            assertThat(sequences).containsExactly(0L, 1L, 2L, 3L, 4L);
        }
    }

    private static OutboxEntry entry(String type, String aggregateId, long sequence) {
        return OutboxEntry.pending(type + "-" + aggregateId + "-" + sequence, Instant.now(), "Evt", type, aggregateId,
                                   sequence, "{\"n\":" + sequence + "}", "{}", "0");
    }

    private static void admin(String path, String body) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(SharedPulsarBroker.adminUrl() + path))
                           .header("Content-Type", "application/json")
                           .PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path + ": " + response.body()).isBetween(200, 299);
    }
}
