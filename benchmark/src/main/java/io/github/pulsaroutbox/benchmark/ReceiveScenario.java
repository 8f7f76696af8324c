package io.github.pulsaroutbox.benchmark;

import io.github.pulsaroutbox.receiving.OutboxMessageConverter;
import io.github.pulsaroutbox.receiving.PulsarStreamableMessageSource;
import io.github.pulsaroutbox.receiving.PulsarSubscribableMessageSource;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.client.api.SubscriptionType;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.EventProcessor;
import org.axonframework.eventhandling.SimpleEventHandlerInvoker;
import org.axonframework.eventhandling.SubscribingEventProcessor;
import org.axonframework.eventhandling.TrackingEventProcessor;
import org.axonframework.eventhandling.TrackingEventProcessorConfiguration;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.axonframework.serialization.json.JacksonSerializer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code receive} scenario: a topic filled with {@code --rows} messages as the relay sends them (keys, JSON,
 * {@code ce_*} properties) is read into a counting event handler through the streamable source (a tracking processor,
 * in-memory tokens) and through the subscribable source (a subscribing processor, a new {@code Key_Shared}
 * subscription), against a raw consumer reading the same topic; which side goes first alternates per round. Measures
 * the sources' own cost (conversion into Axon events, processors); no inbox, no database.
 */
final class ReceiveScenario {

    /** What the benchmark's handler receives. */
    public record Deposited(String accountId, long amount, String note) {
    }

    private enum Side {
        RAW("raw consumer (Key_Shared)"),
        STREAMABLE("streamable source, tracking processor"),
        SUBSCRIBABLE("subscribable source, subscribing processor");

        final String label;

        Side(String label) {
            this.label = label;
        }
    }

    private final Options options;
    private final List<String> table;

    ReceiveScenario(Options options, List<String> table) {
        this.options = options;
        this.table = table;
    }

    void run(PulsarClient client, int rounds) throws Exception {
        int rows = options.integer("rows", 100_000);
        String topic = "persistent://public/default/bench-receive-" + UUID.randomUUID();
        fill(client, topic, rows);
        Benchmark.log("receive warm-up: not counted");
        List<Side> order = new ArrayList<>(List.of(Side.values()));
        for (Side side : order) {
            receive(client, topic, Math.min(rows, 20_000), side);
        }
        Map<Side, List<Double>> rates = new LinkedHashMap<>();
        Map<Side, List<Double>> ratios = new LinkedHashMap<>();
        for (int round = 1; round <= rounds; round++) {
            Map<Side, Double> thisRound = new LinkedHashMap<>();
            for (Side side : order) {
                thisRound.put(side, receive(client, topic, rows, side));
            }
            java.util.Collections.reverse(order);
            Benchmark.log("receive round " + round + ": " + thisRound + " events/s");
            thisRound.forEach((side, rate) -> rates.computeIfAbsent(side, s -> new ArrayList<>()).add(rate));
            for (Side side : List.of(Side.STREAMABLE, Side.SUBSCRIBABLE)) {
                ratios.computeIfAbsent(side, s -> new ArrayList<>()).add(thisRound.get(side) / thisRound.get(Side.RAW));
            }
        }
        for (Side side : Side.values()) {
            table.add("| receive: " + side.label + " (" + rows + " messages) | "
                              + Stats.of(rates.get(side)).format("%,.0f") + " events/s | |");
        }
        for (Side side : List.of(Side.STREAMABLE, Side.SUBSCRIBABLE)) {
            table.add("| receive: " + side.label + " / raw consumer | " + Stats.of(ratios.get(side)).format("%.2f")
                              + "× | reported |");
        }
    }

    /** The relay's messages: its keys, JSON and properties (as the raw producer's), sent once before the rounds. */
    private void fill(PulsarClient client, String topic, int rows) throws PulsarClientException {
        int aggregates = options.integer("aggregates", 1000);
        int payloadBytes = options.integer("payload-bytes", 500);
        try (Producer<byte[]> producer = client.newProducer(Schema.BYTES).topic(topic).blockIfQueueFull(true)
                                               .create()) {
            List<CompletableFuture<MessageId>> sends = new ArrayList<>(rows);
            for (int row = 0; row < rows; row++) {
                String key = Payloads.aggregateId("a-", row, aggregates);
                Map<String, String> properties = RawProducer.relayLikeProperties(key, row, aggregates);
                sends.add(producer.newMessage().key(key).properties(properties)
                                  .value(Payloads.json(key, row, payloadBytes).getBytes(StandardCharsets.UTF_8))
                                  .sendAsync());
            }
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).join();
        }
    }

    /** Events/s from the side's start until its handler (or the raw consumer) has {@code count} messages. */
    private double receive(PulsarClient client, String topic, int count, Side side) throws Exception {
        AtomicInteger received = new AtomicInteger();
        String subscription = "bench-" + UUID.randomUUID();
        long start = System.nanoTime();
        switch (side) {
            case RAW -> {
                try (Consumer<byte[]> consumer = client.newConsumer(Schema.BYTES).topic(topic)
                                                       .subscriptionName(subscription)
                                                       .subscriptionType(SubscriptionType.Key_Shared)
                                                       .subscriptionInitialPosition(
                                                               SubscriptionInitialPosition.Earliest)
                                                       .subscribe()) {
                    while (received.get() < count) {
                        Message<byte[]> message = consumer.receive(60, TimeUnit.SECONDS);
                        if (message == null) {
                            throw new IllegalStateException("The raw consumer got " + received + " of " + count);
                        }
                        consumer.acknowledgeAsync(message);
                        received.incrementAndGet();
                    }
                    consumer.unsubscribe();
                }
            }
            case STREAMABLE -> {
                PulsarStreamableMessageSource source = PulsarStreamableMessageSource.builder().pulsarClient(client)
                                                                                    .topic(topic)
                                                                                    .converter(converter()).build();
                TrackingEventProcessor processor =
                        TrackingEventProcessor.builder().name("receive").eventHandlerInvoker(counting(received))
                                              .messageSource(source).tokenStore(new InMemoryTokenStore())
                                              .transactionManager(NoTransactionManager.instance())
                                              .trackingEventProcessorConfiguration(
                                                      TrackingEventProcessorConfiguration.forSingleThreadedProcessing()
                                                                                         .andBatchSize(100))
                                              .build();
                awaitAll(processor, received, count);
            }
            case SUBSCRIBABLE -> {
                PulsarSubscribableMessageSource source =
                        PulsarSubscribableMessageSource.builder().pulsarClient(client).topic(topic)
                                                       .subscription(subscription).converter(converter()).build();
                SubscribingEventProcessor processor =
                        SubscribingEventProcessor.builder().name("receive").eventHandlerInvoker(counting(received))
                                                 .messageSource(source)
                                                 .transactionManager(NoTransactionManager.instance()).build();
                awaitAll(processor, received, count);
            }
        }
        return count / ((System.nanoTime() - start) / 1e9);
    }

    private static void awaitAll(EventProcessor processor, AtomicInteger received, int count) throws Exception {
        processor.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (received.get() < count) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(processor.getName() + " got " + received + " of " + count);
                }
                Thread.sleep(5);
            }
        } finally {
            processor.shutDown();
        }
    }

    private static SimpleEventHandlerInvoker counting(AtomicInteger received) {
        return SimpleEventHandlerInvoker.builder().eventHandlers(new Object() {
            @EventHandler
            void on(Deposited deposited) {
                received.incrementAndGet();
            }
        }).build();
    }

    private static OutboxMessageConverter converter() {
        return OutboxMessageConverter.builder().serializer(JacksonSerializer.defaultSerializer())
                                     .type(Payloads.EVENT_TYPE, Deposited.class).build();
    }
}
