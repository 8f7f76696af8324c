package io.github.pulsaroutbox.benchmark;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.relay.ForwardingOutboxPublisher;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import io.github.pulsaroutbox.tailing.EventStoreTailingModule;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.config.Configuration;
import org.axonframework.config.DefaultConfigurer;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.serialization.json.JacksonSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One tailing round: a fresh event store pre-filled with events of {@code @Outbox} aggregates is drained to a new topic
 * by the tailing processor (default settings, starting at the tail), timed from the start until the broker
 * acknowledged every event.
 */
final class TailingThroughput {

    private TailingThroughput() {
    }

    /** Messages per second. */
    static double drain(Options options, PulsarClient client, int events) throws InterruptedException {
        int aggregates = options.integer("aggregates", 1000);
        int payload = options.integer("payload-bytes", 500);
        JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
        try (BenchDatabase db = BenchDatabase.fresh(options)) {
            JdbcEventStorageEngine engine = JdbcEventStorageEngine.builder()
                    .connectionProvider(db.connectionProvider()).transactionManager(db.transactionManager())
                    .eventSerializer(serializer).snapshotSerializer(serializer).build();
            db.createEventStore(engine);
            String note = "x".repeat(Math.max(0, payload - 60));
            List<EventMessage<?>> batch = new ArrayList<>(1000);
            for (int row = 0; row < events; row++) {
                batch.add(new GenericDomainEventMessage<>("BenchAccount", "t-" + (row % aggregates),
                                                          row / aggregates,
                                                          new BenchAccount.Opened("t-" + (row % aggregates), note)));
                if (batch.size() == 1000 || row == events - 1) {
                    List<EventMessage<?>> appended = List.copyOf(batch);
                    db.transactionManager().executeInTransaction(() -> engine.appendEvents(appended));
                    batch.clear();
                }
            }
            String topic = "persistent://public/default/bench-tailing-" + UUID.randomUUID();
            AtomicLong acknowledged = new AtomicLong();
            PulsarOutboxPublisher pulsar = PulsarOutboxPublisher.builder().pulsarClient(client)
                                                                .producerNamePrefix("bench-tail").build();
            TokenStore tokens = db.tokenStore("bench-tail");
            var configurer = DefaultConfigurer.defaultConfiguration()
                    .configureTransactionManager(c -> db.transactionManager())
                    .configureSerializer(c -> serializer)
                    .configureEventSerializer(c -> serializer)
                    .configureEmbeddedEventStore(c -> engine)
                    .registerComponent(TokenStore.class, c -> tokens);
            EventStoreTailingModule.Builder module = EventStoreTailingModule.builder()
                    .serializer(serializer)
                    .publisher(new Counting(pulsar, acknowledged))
                    .topicResolver((type, annotated) -> Optional.of(topic))
                    .aggregate(BenchAccount.class)
                    .startPosition(EventStoreTailingModule.StartPosition.TAIL)
                    .processorName("bench-tailing-" + UUID.randomUUID().toString().substring(0, 8));
            if (options.integer("tailing-segments", 0) > 0) {
                module.segments(options.integer("tailing-segments", 0));
            }
            if (options.integer("tailing-batch-size", 0) > 0) {
                module.batchSize(options.integer("tailing-batch-size", 0));
            }
            module.build().configureModule(configurer);
            long start = System.nanoTime();
            Configuration configuration = configurer.start();
            try {
                long deadline = start + Duration.ofMinutes(10).toNanos();
                while (acknowledged.get() < events) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("Tailing drained " + acknowledged.get() + " of " + events);
                    }
                    Thread.sleep(5);
                }
                return events / ((System.nanoTime() - start) / 1e9);
            } finally {
                configuration.shutdown();
            }
        }
    }

    /** Counts acknowledgements. */
    private static final class Counting extends ForwardingOutboxPublisher {

        private final AtomicLong acknowledged;

        Counting(OutboxPublisher delegate, AtomicLong acknowledged) {
            super(delegate);
            this.acknowledged = acknowledged;
        }

        @Override
        protected OutboxPublisher wrap(OutboxPublisher publisher) {
            return new Counting(publisher, acknowledged);
        }

        private <T> CompletableFuture<T> counted(CompletableFuture<T> sent) {
            return sent.thenApply(result -> {
                acknowledged.incrementAndGet();
                return result;
            });
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            return counted(super.publish(entry, destination));
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination, int segment, long sequenceId) {
            return counted(super.publish(entry, destination, segment, sequenceId));
        }
    }
}
