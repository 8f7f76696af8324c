package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A Pulsar broker as far as the relay can tell, for {@link RelaySimulation}: topics with a number of partitions
 * (which may grow), deduplication per producer name and partition (the last stored sequence id; a message at or below
 * it is dropped and acknowledged), a producer name held by one connection at a time, sends stored in order per
 * producer and partition, a failed send failing every later pending one of the same producer (as Pulsar's producers
 * do), outages, connections that drop, and messages refused for what they are. Nothing happens on its own: the
 * simulation decides when a pending send is stored, dropped or failed. Not thread-safe; the simulation runs on one
 * thread.
 */
final class SimulatedBroker {

    /** A message the broker stored: the row id, its key, sequence id, partition and store order. */
    record Stored(String rowId, String key, long aggregateSequence, int partition, long order) {
    }

    /** A send the broker has not answered yet. */
    private static final class Pending {
        final Connection connection;
        final String producer;
        final int partition;
        final long sequence;
        final OutboxEntry entry;
        final CompletableFuture<Object> ack = new CompletableFuture<>();

        Pending(Connection connection, String producer, int partition, long sequence, OutboxEntry entry) {
            this.connection = connection;
            this.producer = producer;
            this.partition = partition;
            this.sequence = sequence;
            this.entry = entry;
        }
    }

    /** Failures the simulated client reports; {@link #classify} maps them as the Pulsar publisher does. */
    static final class BrokerFailure extends RuntimeException {
        final FailureKind kind;
        final boolean neverSent;

        BrokerFailure(FailureKind kind, String message, boolean neverSent) {
            super(message, null, false, false);
            this.kind = kind;
            this.neverSent = neverSent;
        }
    }

    private final Set<String> refusedRows;
    /** Topics whose broker is unreachable for now (the other topics are served). */
    private final Set<String> topicsDown = new HashSet<>();
    private int partitions;
    private boolean down;
    private long order;
    /** Per producer name and partition: the last stored sequence id. */
    private final Map<String, Long> lastStored = new HashMap<>();
    /** Which connection holds each producer name. */
    private final Map<String, Connection> holders = new HashMap<>();
    /** Pending sends per producer name and partition, in send order. */
    private final Map<String, ArrayDeque<Pending>> pending = new HashMap<>();
    private final List<Stored> log = new ArrayList<>();
    private final Map<String, Integer> storedCount = new HashMap<>();

    SimulatedBroker(int partitions, Set<String> refusedRows) {
        this.partitions = partitions;
        this.refusedRows = refusedRows;
    }

    /** A connection of one node (a new one after each restart of that node). */
    Connection connect(String node) {
        return new Connection(node);
    }

    /** Everything stored, in store order. */
    List<Stored> log() {
        return log;
    }

    /** How often each row was stored (deduplicated copies are not stored). */
    Map<String, Integer> storedCount() {
        return storedCount;
    }

    void setDown(boolean down) {
        this.down = down;
        if (down) {
            holders.values().stream().distinct().toList().forEach(c -> c.drop(new Random(order), false));
        }
    }

    boolean isDown() {
        return down;
    }

    /**
     * One topic's broker goes down (or comes back) while the others serve: its producers are dropped (their pending
     * sends fail, each stored or not) and it refuses producers and sends until it is up.
     */
    void setTopicDown(String topic, boolean topicDown) {
        if (topicDown && topicsDown.add(topic)) {
            holders.entrySet().stream().filter(h -> h.getKey().startsWith(topic + "-segment-")).toList()
                   .forEach(h -> h.getValue().release(h.getKey(), new Random(order)));
        } else if (!topicDown) {
            topicsDown.remove(topic);
        }
    }

    /** Every topic's broker is up again. */
    void topicsUp() {
        topicsDown.clear();
    }

    void addPartition() {
        partitions++;
    }

    int partitions() {
        return partitions;
    }

    /** Whether any send waits for an answer. */
    boolean hasPending() {
        return pending.values().stream().anyMatch(q -> !q.isEmpty());
    }

    /**
     * Answers the oldest pending send of a random producer: stores it (or drops it as a copy) and acknowledges it, or
     * (rarely, unless {@code faults} is off) fails it and every later pending send of that producer, a prefix of them
     * stored, or stores it and loses the acknowledgement (the relay's ack timeout then fails it).
     */
    void answerOne(Random random, boolean faults) {
        List<String> queues = new ArrayList<>();
        pending.forEach((name, queue) -> {
            if (!queue.isEmpty()) {
                queues.add(name);
            }
        });
        if (queues.isEmpty()) {
            return;
        }
        queues.sort(null);
        ArrayDeque<Pending> queue = pending.get(queues.get(random.nextInt(queues.size())));
        Pending head = queue.poll();
        int roll = random.nextInt(100);
        if (faults && roll < 2) {
            store(head); // stored, but the acknowledgement is lost: the relay's ack timeout fails it
            return;
        }
        if (faults && roll < 5) {
            // the send fails and so does every later one of the producer; a prefix of them may have been stored
            boolean storing = random.nextBoolean();
            for (Pending message = head; message != null; message = queue.poll()) {
                if (storing) {
                    store(message);
                    storing = random.nextBoolean();
                }
                fail(message, new BrokerFailure(FailureKind.TIMEOUT, "send failed, may have been stored", false));
            }
            return;
        }
        store(head);
        head.ack.complete("stored");
    }

    private void store(Pending message) {
        String key = message.producer + '/' + message.partition;
        long last = lastStored.getOrDefault(key, -1L);
        if (message.sequence <= last) {
            return; // a copy: dropped, acknowledged all the same
        }
        lastStored.put(key, message.sequence);
        log.add(new Stored(message.entry.id(), message.entry.aggregateKey(), message.entry.aggregateSequence(),
                           message.partition, order++));
        storedCount.merge(message.entry.id(), 1, Integer::sum);
    }

    private static void fail(Pending message, BrokerFailure failure) {
        message.ack.completeExceptionally(failure);
    }

    private int partitionOf(String key, int count) {
        return Math.floorMod(key.hashCode(), count);
    }

    /** One node's client: its producers hold producer names until closed or the connection drops. */
    final class Connection implements OutboxPublisher {
        private final String node;
        /** Producer names this connection holds, with the partition count its session saw. */
        private final Map<String, Integer> held = new HashMap<>();
        private boolean closed;

        private Connection(String node) {
            this.node = node;
        }

        /**
         * The connection drops (the node died, or the broker went down): its names are free; its pending sends fail,
         * each stored or not.
         */
        void drop(Random random, boolean close) {
            for (String name : new ArrayList<>(held.keySet())) {
                release(name, random);
            }
            closed |= close;
        }

        private void release(String name, Random random) {
            held.remove(name);
            holders.remove(name, this);
            for (Iterator<Map.Entry<String, ArrayDeque<Pending>>> it = pending.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, ArrayDeque<Pending>> queue = it.next();
                if (!queue.getKey().startsWith(name + '/')) {
                    continue;
                }
                boolean storing = random.nextBoolean();
                for (Pending message : queue.getValue()) {
                    if (message.connection != this) {
                        continue;
                    }
                    if (storing) {
                        store(message);
                        storing = random.nextBoolean();
                    }
                    fail(message, new BrokerFailure(FailureKind.UNAVAILABLE, "producer closed", false));
                }
                queue.getValue().removeIf(message -> message.connection == this);
            }
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            throw new UnsupportedOperationException("the simulation sends with sequence ids");
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination, int segment, long sequenceId) {
            String name = name(destination, segment);
            Integer count = held.get(name);
            if (closed || down || topicsDown.contains(destination) || count == null || holders.get(name) != this) {
                return CompletableFuture.failedFuture(
                        new BrokerFailure(FailureKind.UNAVAILABLE, "producer closed or fenced", true));
            }
            if (refusedRows.contains(entry.id())) {
                return CompletableFuture.failedFuture(
                        new BrokerFailure(FailureKind.MESSAGE_TOO_LARGE, "message refused", true));
            }
            int partition = partitionOf(entry.aggregateId(), count);
            Pending message = new Pending(this, name, partition, sequenceId, entry);
            pending.computeIfAbsent(name + '/' + partition, k -> new ArrayDeque<>()).add(message);
            return message.ack;
        }

        @Override
        public boolean supportsSequenceIds() {
            return true;
        }

        @Override
        public CompletableFuture<Session> openSession(String destination, int segment) {
            String name = name(destination, segment);
            if (held.containsKey(name)) {
                release(name, new Random(order + segment));
            }
            if (closed || down) {
                return CompletableFuture.failedFuture(
                        new BrokerFailure(FailureKind.UNAVAILABLE, "connection refused", true));
            }
            if (topicsDown.contains(destination)) {
                return CompletableFuture.failedFuture(
                        new BrokerFailure(FailureKind.UNAVAILABLE, destination + ": its broker is unreachable", true));
            }
            Connection holder = holders.get(name);
            if (holder != null && holder != this) {
                return CompletableFuture.failedFuture(
                        new BrokerFailure(FailureKind.UNAVAILABLE, "producer busy: held by " + holder.node, true));
            }
            holders.put(name, this);
            int count = partitions;
            held.put(name, count);
            Map<Integer, Long> stored = new HashMap<>();
            for (int partition = 0; partition < count; partition++) {
                stored.put(partition, lastStored.getOrDefault(name + '/' + partition, -1L));
            }
            long highest = lastStoredAnywhere(name);
            return CompletableFuture.completedFuture(new Session() {
                @Override
                public long lastStored(String key) {
                    return stored.get(partitionOf(key));
                }

                @Override
                public long highestStored() {
                    return highest;
                }

                @Override
                public int partitionOf(String key) {
                    return SimulatedBroker.this.partitionOf(key, count);
                }

                @Override
                public long lastStoredIn(int partition) {
                    return stored.getOrDefault(partition, -1L);
                }
            });
        }

        private long lastStoredAnywhere(String name) {
            long highest = -1;
            for (Map.Entry<String, Long> entry : lastStored.entrySet()) {
                if (entry.getKey().startsWith(name + '/')) {
                    highest = Math.max(highest, entry.getValue());
                }
            }
            return highest;
        }

        @Override
        public void closeSegment(int segment) {
            for (String name : new ArrayList<>(held.keySet())) {
                if (name.endsWith("-segment-" + segment)) {
                    release(name, new Random(order * 31 + segment));
                }
            }
        }

        @Override
        public boolean neverSent(Throwable failure) {
            return failure instanceof BrokerFailure b && b.neverSent;
        }

        @Override
        public FailureKind classify(Throwable failure) {
            return failure instanceof BrokerFailure b ? b.kind : FailureKind.TRANSIENT;
        }

        @Override
        public boolean failsLaterSendsAfterAFailure() {
            return true;
        }

        private String name(String destination, int segment) {
            return destination + "-segment-" + segment;
        }
    }

    /** The names of the rows stored more than once. */
    Set<String> duplicates() {
        Set<String> twice = new HashSet<>();
        storedCount.forEach((id, count) -> {
            if (count > 1) {
                twice.add(id);
            }
        });
        return twice;
    }
}
