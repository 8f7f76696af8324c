package io.github.pulsaroutbox.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.client.api.SubscriptionType;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import io.github.pulsaroutbox.BrokerTestSupport;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import io.github.pulsaroutbox.testapp.OutboxTestApplication;
import io.github.pulsaroutbox.testapp.ShopCommands;
import io.github.pulsaroutbox.testapp.ShopEvents;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The whole path on the real broker: commands → events + outbox rows in one transaction → relay → Pulsar → a
 * consumer. 20 aggregates × 50 events, issued concurrently, arrive exactly once and in aggregate order per key.
 */
@SpringBootTest(classes = OutboxTestApplication.class, properties = "management.tracing.sampling.probability=1.0")
@org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability(metrics = false)
@DirtiesContext
class OutboxEndToEndIntegrationTest extends BrokerTestSupport {

    private static final String TOPIC = "persistent://public/default/e2e-orders-" + UUID.randomUUID();
    private static final int AGGREGATES = 20;
    private static final int EVENTS_PER_AGGREGATE = 50;

    @DynamicPropertySource
    static void topics(DynamicPropertyRegistry registry) {
        registry.add("pulsar-outbox.topics.ShopOrder", () -> TOPIC);
    }

    @Autowired
    CommandGateway commandGateway;
    @Autowired
    PulsarClient pulsarClient;
    @Autowired
    OutboxMaintenance outboxStore;
    @Autowired
    io.micrometer.tracing.Tracer tracer;


    private final ObjectMapper json = new ObjectMapper();

    @Test
    void concurrentAggregatesArriveExactlyOnceInAggregateOrder() throws Exception {
        try (Consumer<byte[]> consumer = pulsarClient.newConsumer(Schema.BYTES)
                                                     .topic(TOPIC)
                                                     .subscriptionName("e2e-check")
                                                     .subscriptionType(SubscriptionType.Key_Shared)
                                                     .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                                     .subscribe()) {
            List<String> orderIds = new ArrayList<>();
            for (int i = 0; i < AGGREGATES; i++) {
                orderIds.add("order-" + i + "-" + UUID.randomUUID());
            }
            Instant start = Instant.now();
            ExecutorService pool = Executors.newFixedThreadPool(AGGREGATES);
            try {
                List<Future<?>> issued = new ArrayList<>();
                for (String orderId : orderIds) {
                    issued.add(pool.submit(() -> {
                        commandGateway.sendAndWait(new ShopCommands.CreateOrder(orderId, "customer of " + orderId));
                        for (int line = 1; line < EVENTS_PER_AGGREGATE; line++) {
                            commandGateway.sendAndWait(new ShopCommands.AddLine(orderId, "product-" + line, line));
                        }
                    }));
                }
                for (Future<?> future : issued) {
                    future.get(120, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }

            int expected = AGGREGATES * EVENTS_PER_AGGREGATE;
            List<Message<byte[]>> received = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (received.size() < expected && System.nanoTime() < deadline) {
                Message<byte[]> message = consumer.receive(1, TimeUnit.SECONDS);
                if (message != null) {
                    if (orderIds.contains(message.getKey())) { // other tests of this class share the topic
                        received.add(message);
                    }
                    consumer.acknowledge(message);
                }
            }
            // exactly once: nothing more of these aggregates arrives after the expected count
            Message<byte[]> extra;
            while ((extra = consumer.receive(2, TimeUnit.SECONDS)) != null) {
                assertThat(extra.getKey()).as("a message beyond the %d expected", expected).isNotIn(orderIds);
            }
            assertThat(received).hasSize(expected);

            Set<String> eventIds = new HashSet<>();
            Map<String, List<Long>> sequencesByKey = new LinkedHashMap<>();
            for (Message<byte[]> message : received) {
                assertThat(eventIds.add(message.getProperty(OutboxMessageProperties.ID)))
                        .as("duplicate event id").isTrue();
                assertThat(message.getProperty(OutboxMessageProperties.AGGREGATE_ID)).isEqualTo(message.getKey());
                sequencesByKey.computeIfAbsent(message.getKey(), k -> new ArrayList<>())
                              .add(Long.parseLong(message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE)));
            }
            assertThat(sequencesByKey).containsOnlyKeys(orderIds);
            List<Long> inOrder = LongStream.range(0, EVENTS_PER_AGGREGATE).boxed().toList();
            sequencesByKey.forEach((key, sequences) -> assertThat(sequences).as("order of " + key)
                                                                            .containsExactlyElementsOf(inOrder));

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(outboxStore.count(OutboxStatus.PENDING)).isZero();
                assertThat(outboxStore.count(OutboxStatus.SENT)).isEqualTo(expected);
            });

            assertMessageShape(received, orderIds.get(0), start);
        }
    }

    /** Tracing is on in this application (Boot's tracing auto-configuration, Brave): the send is a span of it. */
    @Test
    void traceContextOfTheCommandTravelsWithItsEvents() throws Exception {
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        String traceParent = "00-" + traceId + "-00f067aa0ba902b7-01";
        String orderId = "traced-" + UUID.randomUUID();
        String sent = traceParentOfFirstEvent(orderId, () -> commandGateway.sendAndWait(
                GenericCommandMessage.asCommandMessage(new ShopCommands.CreateOrder(orderId, "tracy"))
                                     .withMetaData(Map.of("traceparent", traceParent))));
        assertThat(sent).as("the captured trace, continued by the relay's producer span")
                        .startsWith("00-" + traceId + "-").endsWith("-01").isNotEqualTo(traceParent);
    }

    @Test
    void eventsOfACommandHandledInASpanAreSentInItsTrace() throws Exception {
        String orderId = "spanned-" + UUID.randomUUID();
        io.micrometer.tracing.Span span = tracer.nextSpan().name("place order").start();
        String sent;
        try (io.micrometer.tracing.Tracer.SpanInScope ignored = tracer.withSpan(span)) {
            sent = traceParentOfFirstEvent(orderId, () -> commandGateway.sendAndWait(
                    new ShopCommands.CreateOrder(orderId, "spanner")));
        } finally {
            span.end();
        }
        assertThat(sent).startsWith("00-" + span.context().traceId() + "-");
        assertThat(sent.split("-")[2]).as("a span of the relay, not the command's").isNotEqualTo(span.context().spanId());
    }

    /** Runs {@code command} and returns the {@code traceparent} of the order's first message. */
    private String traceParentOfFirstEvent(String orderId, Runnable command) throws Exception {
        try (Consumer<byte[]> consumer = pulsarClient.newConsumer(Schema.BYTES)
                                                     .topic(TOPIC)
                                                     .subscriptionName("trace-check-" + orderId)
                                                     .subscriptionInitialPosition(SubscriptionInitialPosition.Latest)
                                                     .subscribe()) {
            command.run();
            Message<byte[]> message;
            do {
                message = consumer.receive(30, TimeUnit.SECONDS);
                assertThat(message).as("the traced order's event").isNotNull();
            } while (!orderId.equals(message.getKey()));
            return message.getProperty(OutboxMessageProperties.TRACE_PARENT);
        }
    }

    private void assertMessageShape(List<Message<byte[]>> received, String orderId, Instant start) throws Exception {
        List<Message<byte[]>> ofOrder = received.stream().filter(m -> orderId.equals(m.getKey())).toList();
        Message<byte[]> created = ofOrder.get(0);
        assertThat(created.getProperties())
                .containsEntry(OutboxMessageProperties.SPEC_VERSION, "1.0")
                .containsEntry(OutboxMessageProperties.TYPE, "OrderCreated") // the logical name, not the class name
                .containsKey(OutboxMessageProperties.CORRELATION_ID) // Axon's correlation metadata, sent by default
                .containsKey(OutboxMessageProperties.CAUSATION_ID)
                .containsEntry(OutboxMessageProperties.SOURCE, "outbox-test")
                .containsEntry(OutboxMessageProperties.SUBJECT, orderId)
                .containsEntry(OutboxMessageProperties.DATA_CONTENT_TYPE, "application/json")
                .containsEntry(OutboxMessageProperties.SCHEMA_VERSION, "0")
                .containsEntry(OutboxMessageProperties.AGGREGATE_TYPE, "ShopOrder")
                .containsEntry(OutboxMessageProperties.AGGREGATE_SEQUENCE, "0")
                .containsKey(OutboxMessageProperties.ID)
                .containsKey(OutboxMessageProperties.TIME);
        Instant time = Instant.parse(created.getProperty(OutboxMessageProperties.TIME));
        assertThat(time).isAfterOrEqualTo(start.minusSeconds(1));
        assertThat(created.getEventTime()).isEqualTo(time.toEpochMilli());
        JsonNode payload = json.readTree(new String(created.getValue(), StandardCharsets.UTF_8));
        assertThat(payload.get("orderId").asText()).isEqualTo(orderId);
        assertThat(payload.get("customer").asText()).isEqualTo("customer of " + orderId);

        Message<byte[]> line = ofOrder.get(7);
        assertThat(line.getProperty(OutboxMessageProperties.TYPE)).isEqualTo("LineAdded");
        assertThat(line.getProperties().values()).noneMatch(value -> value.contains(ShopEvents.class.getName()));
        assertThat(line.getProperty(OutboxMessageProperties.SCHEMA_VERSION)).isEqualTo("2");
        assertThat(json.readTree(line.getValue()).get("lineNumber").asInt()).isEqualTo(7);
    }
}
