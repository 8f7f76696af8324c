package io.github.pulsaroutbox.benchmark;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.relay.SegmentClaims;
import io.github.pulsaroutbox.store.OutboxStore;
import org.apache.pulsar.client.api.PulsarClient;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One relay round: a fresh outbox pre-filled with rows is drained to a new topic by the real relay and Pulsar
 * publisher (default settings), timed from the relay's start until every row is recorded SENT.
 */
final class RelayThroughput {

    private RelayThroughput() {
    }

    /** Messages per second; {@code setUp} adds history (SENT or blocked rows) before the timed rows are written. */
    static double drain(Options options, PulsarClient client, int rows, Consumer<BenchDatabase> setUp) {
        return drain(options, client, rows, setUp, Boolean.parseBoolean(options.get("relay-claims", "true")),
                     options.integer("relay-nodes", 1));
    }

    /**
     * As {@link #drain(Options, PulsarClient, int, Consumer)}, with or without segment claims (then with persisted
     * broker sequence ids) and with {@code nodes} relays in this JVM sharing the work through a JDBC token store.
     */
    static double drain(Options options, PulsarClient client, int rows, Consumer<BenchDatabase> setUp,
                        boolean claims, int nodes) {
        return drain(options, client, rows, setUp, claims, nodes, false);
    }

    /**
     * As {@link #drain(Options, PulsarClient, int, Consumer, boolean, int)}; with {@code instant}, the relay sends to
     * a publisher that acknowledges every message at once without a broker ({@link InstantPublisher}): the rate the
     * relay's own work (its database statements and threads) allows, whatever the broker.
     */
    static double drain(Options options, PulsarClient client, int rows, Consumer<BenchDatabase> setUp,
                        boolean claims, int nodes, boolean instant) {
        return drain(options, client, rows, setUp, claims, nodes, instant, db -> () -> { });
    }

    /**
     * As {@link #drain(Options, PulsarClient, int, Consumer, boolean, int, boolean)}, with {@code alongside} started on
     * the database when the clock starts and closed when the last row is recorded (see {@link #drainAlongside}).
     */
    static double drain(Options options, PulsarClient client, int rows, Consumer<BenchDatabase> setUp,
                        boolean claims, int nodes, boolean instant, Function<BenchDatabase, AutoCloseable> alongside) {
        return drain(options, client, rows, setUp, claims, nodes, instant, null, alongside);
    }

    /**
     * As {@link #drain(Options, PulsarClient, int, Consumer)}, with {@code alongside} started on the database when the
     * clock starts and closed when the last row is recorded: work that runs on the same database during the drain
     * (retention, for example).
     */
    static double drainAlongside(Options options, PulsarClient client, int rows, Consumer<BenchDatabase> setUp,
                                 Function<BenchDatabase, AutoCloseable> alongside) {
        return drain(options, client, rows, setUp, Boolean.parseBoolean(options.get("relay-claims", "true")),
                     options.integer("relay-nodes", 1), false, null, alongside);
    }

    /** Stops and starts the benchmark's broker (same ports, same data). */
    interface Broker {
        void stop();

        void start();
    }

    /**
     * The drain of a backlog built during a broker outage: the relay (claims as configured) starts with the broker
     * stopped, the rows are written while it runs, then the broker starts again; timed from the moment the broker
     * accepts connections until every row is recorded SENT. Messages per second.
     */
    static double drainAfterOutage(Options options, PulsarClient client, int rows, Broker broker) {
        return drain(options, client, rows, db -> { },
                     Boolean.parseBoolean(options.get("relay-claims", "true")), 1, false, broker, db -> () -> { });
    }

    private static double drain(Options options, PulsarClient client, int rows, Consumer<BenchDatabase> setUp,
                                boolean claims, int nodes, boolean instant, Broker outage,
                                Function<BenchDatabase, AutoCloseable> alongside) {
        int aggregates = options.integer("aggregates", 1000);
        try (BenchDatabase db = BenchDatabase.fresh(options)) {
            setUp.accept(db);
            if (outage == null) {
                db.prefill("a-", rows, aggregates, options.integer("payload-bytes", 500));
                db.analyze();
                db.checkpoint();
            }
            String topic = "persistent://public/default/bench-relay-" + UUID.randomUUID();
            CountingStore store = new CountingStore(db.store());
            store.profile = Boolean.parseBoolean(options.get("store-profile", "false"));
            List<OutboxRelay> relays = new java.util.ArrayList<>();
            String processor = "bench-" + UUID.randomUUID();
            List<OutboxPublisher> publishers = new java.util.ArrayList<>();
            for (int node = 0; node < (claims ? nodes : 1); node++) {
                PulsarOutboxPublisher.Builder publisherBuilder = PulsarOutboxPublisher.builder().pulsarClient(client)
                                                                                      .producerNamePrefix("bench");
                if (options.has("relay-batching")) {
                    publisherBuilder.batching(Boolean.parseBoolean(options.get("relay-batching", "true")));
                }
                if (options.integer("relay-max-in-flight", 0) > 0) {
                    publisherBuilder.maxPendingMessages(options.integer("relay-max-in-flight", 0));
                }
                OutboxPublisher publisher = instant ? new InstantPublisher() : publisherBuilder.build();
                publishers.add(publisher);
                OutboxRelay.Builder builder = OutboxRelay.builder()
                                                         .store(store)
                                                         .publisher(publisher)
                                                         .topicResolver((type, annotated) -> Optional.of(topic))
                                                         .transactionManager(db.transactionManager())
                                                         .name("bench-relay-" + node);
                if (options.integer("relay-batch-size", 0) > 0) {
                    builder.batchSize(options.integer("relay-batch-size", 0));
                }
                if (options.integer("relay-max-in-flight", 0) > 0) {
                    builder.maxInFlight(options.integer("relay-max-in-flight", 0));
                }
                if (claims) {
                    String nodeId = "bench-node-" + node;
                    builder.segmentClaims(SegmentClaims.builder()
                                                       .tokenStore(db.tokenStore(nodeId))
                                                       .transactionManager(db.transactionManager())
                                                       .nodes(db.store())
                                                       .segmentCount(store.segmentCount())
                                                       .processorName(processor)
                                                       .nodeId(nodeId)
                                                       .build());
                }
                relays.add(builder.build());
            }
            if (outage != null) {
                outage.stop();
            }
            relays.forEach(OutboxRelay::start);
            if (outage != null) { // the backlog builds up while the relay runs against no broker
                db.prefill("a-", rows, aggregates, options.integer("payload-bytes", 500));
                db.analyze();
                outage.start();
            }
            long start = System.nanoTime();
            try (AutoCloseable work = alongside.apply(db)) {
                long deadline = start + Duration.ofMinutes(30).toNanos();
                while (store.marked.get() < rows) {
                    if (System.nanoTime() > deadline || relays.stream().anyMatch(r -> !r.isRunning())) {
                        throw new IllegalStateException("The relay did not drain " + rows + " rows: "
                                                                + store.marked.get() + " recorded sent");
                    }
                    Thread.sleep(2);
                }
                double rate = rows / ((System.nanoTime() - start) / 1e9);
                if (store.profile) {
                    System.err.printf("[benchmark] store calls of the drain (%,.0f msg/s):%s%n", rate,
                                      CountingStore.format(store.stats));
                }
                return rate;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("The work alongside the drain failed", e);
            } finally {
                relays.forEach(OutboxRelay::shutdown);
                publishers.forEach(OutboxPublisher::close);
            }
        }
    }

    /**
     * Counts rows recorded SENT once their transaction committed (not when the statement returned), so the round ends
     * when the last row is committed, without polling the table.
     */
    private static final class CountingStore implements OutboxStore {
        private final OutboxStore delegate;
        private final AtomicLong marked = new AtomicLong();
        /** With {@code --store-profile=true}: per store method, calls, rows and milliseconds spent in it. */
        private boolean profile;
        private final java.util.Map<String, long[]> stats = new java.util.concurrent.ConcurrentSkipListMap<>();

        private <T> T timed(String method, java.util.function.Supplier<T> call, java.util.function.ToIntFunction<T> rows) {
            if (!profile) {
                return call.get();
            }
            long start = System.nanoTime();
            T result = call.get();
            long nanos = System.nanoTime() - start;
            long[] stat = stats.computeIfAbsent(method, m -> new long[3]);
            synchronized (stat) {
                stat[0]++;
                stat[1] += rows.applyAsInt(result);
                stat[2] += nanos;
            }
            return result;
        }

        private static String format(java.util.Map<String, long[]> stats) {
            StringBuilder text = new StringBuilder();
            stats.forEach((method, stat) -> text.append(String.format("%n  %-18s %,8d calls %,9d rows %,8d ms",
                                                                        method, stat[0], stat[1], stat[2] / 1_000_000)));
            return text.toString();
        }

        private CountingStore(OutboxStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public void append(List<OutboxEntry> entries) {
            delegate.append(entries);
        }

        @Override
        public List<OutboxEntry> fetchPending(int limit, Instant now) {
            return delegate.fetchPending(limit, now);
        }

        @Override
        public List<OutboxEntry> fetchPendingAfter(long afterPosition, int limit, Instant now) {
            return delegate.fetchPendingAfter(afterPosition, limit, now);
        }

        @Override
        public int segmentCount() {
            return delegate.segmentCount();
        }

        @Override
        public List<OutboxEntry> fetchPending(int limit, Instant now, Set<Integer> segments) {
            return delegate.fetchPending(limit, now, segments);
        }

        @Override
        public List<OutboxEntry> fetchPendingAfter(long afterPosition, int limit, Instant now, Set<Integer> segments) {
            return timed("fetchPendingAfter", () -> delegate.fetchPendingAfter(afterPosition, limit, now, segments),
                         List::size);
        }

        @Override
        public List<OutboxEntry> fetchPending(int limit, Instant now, Set<Integer> segments, long abovePosition) {
            return timed("fetchPending", () -> delegate.fetchPending(limit, now, segments, abovePosition), List::size);
        }

        @Override
        public java.util.Optional<Instant> nextRetryAt(Set<Integer> segments) {
            return delegate.nextRetryAt(segments);
        }

        @Override
        public Set<String> assignSequences(java.util.Map<String, Long> sequences,
                                           java.util.Map<String, Integer> partitions) {
            return timed("assignSequences", () -> delegate.assignSequences(sequences, partitions),
                         r -> sequences.size());
        }

        @Override
        public List<OutboxEntry> fetchSequenced(int segment) {
            return delegate.fetchSequenced(segment);
        }

        @Override
        public List<Sequenced> fetchSequencedWithPartitions(int segment) {
            return timed("fetchSequenced", () -> delegate.fetchSequencedWithPartitions(segment), List::size);
        }

        @Override
        public java.util.Map<Integer, List<Sequenced>> fetchSequencedWithPartitions(java.util.Set<Integer> segments) {
            return timed("fetchSequenced", () -> delegate.fetchSequencedWithPartitions(segments),
                         read -> read.values().stream().mapToInt(List::size).sum());
        }

        @Override
        public void limitWaits(java.time.Duration lockWait, java.time.Duration idle) {
            delegate.limitWaits(lockWait, idle);
        }

        @Override
        public void restoreWaits() {
            delegate.restoreWaits();
        }

        @Override
        public void clearSequences(java.util.Map<String, Long> sequences) {
            delegate.clearSequences(sequences);
        }

        @Override
        public void markStored(java.util.Map<String, Long> sequences, Instant sentAt) {
            delegate.markStored(sequences, sentAt);
            countOnCommit(sequences.size());
        }

        @Override
        public Set<String> markSent(Collection<String> ids, Instant sentAt) {
            Set<String> notRecorded = timed("markSent", () -> delegate.markSent(ids, sentAt), r -> ids.size());
            countOnCommit(ids.size());
            return notRecorded;
        }

        private void countOnCommit(int rows) {
            if (!org.springframework.transaction.support.TransactionSynchronizationManager.isSynchronizationActive()) {
                marked.addAndGet(rows); // no transaction: committed already
                return;
            }
            org.springframework.transaction.support.TransactionSynchronizationManager.registerSynchronization(
                    new org.springframework.transaction.support.TransactionSynchronization() {
                        @Override
                        public void afterCommit() {
                            marked.addAndGet(rows);
                        }
                    });
        }

        @Override
        public void recordFailures(Collection<Failure> failures) {
            delegate.recordFailures(failures);
        }
    }
}
