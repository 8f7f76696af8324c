package io.github.pulsaroutbox.pulsar;

import brave.handler.MutableSpan;
import io.github.pulsaroutbox.BraveTracing;
import io.github.pulsaroutbox.H2OutboxStores;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import io.micrometer.observation.ObservationRegistry;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tracing through Micrometer Observation with a real tracer (Brave, W3C propagation) and the real broker: a row that
 * carries the trace of the command that wrote it is relayed in that trace, as a consumer span (the outbox hop) whose
 * parent is the captured span and a producer span (the send) under it; the message's {@code traceparent} names the
 * producer span, so a consumer's span continues the same trace. A row without a trace starts one at the send.
 */
class PublishTracingIntegrationTest {

    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CAPTURED_SPAN = "00f067aa0ba902b7";

    private final String topic = "persistent://public/default/traced-" + UUID.randomUUID();
    private BraveTracing tracing;
    private PulsarClient client;
    private PulsarOutboxPublisher publisher;
    private JdbcOutboxStore store;
    private OutboxRelay relay;

    @BeforeEach
    void setUp() throws Exception {
        tracing = new BraveTracing();
        ObservationRegistry registry = tracing.registry;

        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl())
                             .operationTimeout(10, TimeUnit.SECONDS).build();
        publisher = PulsarOutboxPublisher.builder().pulsarClient(client).observationRegistry(registry)
                                         .sendTimeout(Duration.ofSeconds(10)).build();
        store = H2OutboxStores.newStore("traced");
        relay = OutboxRelay.builder().store(store).publisher(publisher)
                           .topicResolver((type, annotated) -> Optional.of(topic))
                           .pollInterval(Duration.ofMillis(200))
                           .build();
    }

    @AfterEach
    void tearDown() throws Exception {
        relay.shutdown();
        publisher.close();
        client.close();
        tracing.close();
    }

    @Test
    void sendIsAProducerSpanInTheTraceCapturedWithTheRow() throws Exception {
        store.append(List.of(entry("traced-1", "00-" + TRACE_ID + "-" + CAPTURED_SPAN + "-01"),
                             entry("untraced-1", null)));
        Map<String, Message<byte[]>> received = new HashMap<>();
        try (Consumer<byte[]> consumer = client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("check")
                                               .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                               .subscribe()) {
            relay.start();
            while (received.size() < 2) {
                Message<byte[]> message = consumer.receive(30, TimeUnit.SECONDS);
                assertThat(message).as("both rows relayed").isNotNull();
                received.put(message.getKey(), message);
            }
        }
        // spans end when the acknowledgement was handled, which may follow the consumer's receipt
        await().atMost(Duration.ofSeconds(30)).until(() -> tracing.finished.size() >= 3);

        String[] traced = received.get("traced-1").getProperty(OutboxMessageProperties.TRACE_PARENT).split("-");
        assertThat(traced[1]).as("the message continues the captured trace").isEqualTo(TRACE_ID);
        assertThat(traced[3]).as("sampled, as captured").isEqualTo("01");
        MutableSpan send = tracing.span(TRACE_ID, brave.Span.Kind.PRODUCER);
        MutableSpan outbox = tracing.span(TRACE_ID, brave.Span.Kind.CONSUMER);
        assertThat(outbox.parentId()).as("the outbox hop's parent is the command's span").isEqualTo(CAPTURED_SPAN);
        assertThat(send.parentId()).as("the send is a child of the outbox hop").isEqualTo(outbox.id());
        assertThat(traced[2]).as("the message names the producer span").isEqualTo(send.id());
        assertThat(send.name()).isEqualTo(topic + " send");
        assertThat(send.tags()).containsEntry("messaging.system", "pulsar")
                               .containsEntry("messaging.destination.name", topic)
                               .containsEntry("messaging.message.id", "traced-1-0");
        assertThat(send.remoteServiceName()).isEqualTo("Apache Pulsar");
        assertThat(send.error()).isNull();

        String[] untraced = received.get("untraced-1").getProperty(OutboxMessageProperties.TRACE_PARENT).split("-");
        MutableSpan root = tracing.span(untraced[1], brave.Span.Kind.PRODUCER);
        assertThat(root.parentId()).as("a row without a trace starts one at the send").isNull();
        assertThat(untraced[2]).isEqualTo(root.id());
        assertThat(tracing.finished).as("no outbox hop without a captured trace")
                            .filteredOn(span -> span.traceId().equals(untraced[1])).hasSize(1);
    }

    private static OutboxEntry entry(String aggregateId, String traceParent) {
        return OutboxEntry.pending(aggregateId + "-0", Instant.now(), "com.example.Shipped", "Shipment", aggregateId,
                                   0, "{\"id\":\"" + aggregateId + "\"}", "{}", "0", traceParent);
    }
}
