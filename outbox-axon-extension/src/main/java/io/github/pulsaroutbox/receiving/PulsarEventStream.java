package io.github.pulsaroutbox.receiving;

import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Reader;
import org.axonframework.common.stream.BlockingStream;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.GenericTrackedDomainEventMessage;
import org.axonframework.eventhandling.TrackedEventMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One tracking processor thread's stream of events from the partitions of Pulsar topics: one reader per partition,
 * each read ahead by one message, merged as they arrive. Each event carries the token of everything read so far, so
 * a processor that stores it resumes after it.
 * <p>
 * Guarantees: per partition (so per aggregate: the key picks the partition) events come in the order the broker
 * stored them; every token covers the tokens before it; a message that is not an event of this library advances the
 * token without an event (it is skipped, with a warning). Not thread-safe: one processor thread uses it.
 */
final class PulsarEventStream implements BlockingStream<TrackedEventMessage<?>> {

    private static final Logger logger = LoggerFactory.getLogger(PulsarEventStream.class);

    private final Map<String, Reader<byte[]>> readers;
    private final Map<String, CompletableFuture<Message<byte[]>>> next = new LinkedHashMap<>();
    private final OutboxMessageConverter converter;
    private final ArrayDeque<TrackedEventMessage<?>> ready = new ArrayDeque<>();
    /** Finds partitions added to the topics while the stream is open, and opens readers on them. */
    private final PartitionWatch watch;
    private PulsarTrackingToken token;

    /** A stream of a fixed set of partitions. */
    PulsarEventStream(Map<String, Reader<byte[]>> readers, OutboxMessageConverter converter,
                      PulsarTrackingToken token) {
        this(readers, converter, token, null);
    }

    /** A stream that also reads partitions {@code watch} finds added to its topics (null: none). */
    PulsarEventStream(Map<String, Reader<byte[]>> readers, OutboxMessageConverter converter,
                      PulsarTrackingToken token, PartitionWatch watch) {
        this.readers = new LinkedHashMap<>(readers);
        this.converter = converter;
        this.token = token;
        this.watch = watch;
        this.readers.forEach((partition, reader) -> next.put(partition, reader.readNextAsync()));
    }

    @Override
    public Optional<TrackedEventMessage<?>> peek() {
        takeArrived();
        return Optional.ofNullable(ready.peek());
    }

    @Override
    public boolean hasNextAvailable(int timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (ready.isEmpty()) {
            if (!takeArrived()) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || next.isEmpty()) {
                    return false;
                }
                try {
                    long wait = watch == null ? left : Math.min(left, watch.nanosUntilDue());
                    CompletableFuture.anyOf(next.values().toArray(CompletableFuture[]::new))
                                     .get(Math.max(wait, 1), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    // the wait ended (the deadline, or a partition check is due): the loop decides
                } catch (ExecutionException e) {
                    throw new IllegalStateException("Reading from Pulsar failed", e.getCause());
                }
            }
        }
        return true;
    }

    @Override
    public TrackedEventMessage<?> nextAvailable() throws InterruptedException {
        while (!hasNextAvailable(1, TimeUnit.SECONDS)) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedException();
            }
        }
        return ready.poll();
    }

    /** Takes the messages that arrived, in partition order; whether any did. */
    private boolean takeArrived() {
        if (watch != null) {
            watch.added(readers.keySet()).forEach((partition, reader) -> {
                readers.put(partition, reader);
                next.put(partition, reader.readNextAsync());
            });
        }
        boolean any = false;
        for (Map.Entry<String, CompletableFuture<Message<byte[]>>> pending : next.entrySet()) {
            CompletableFuture<Message<byte[]>> future = pending.getValue();
            if (!future.isDone()) {
                continue;
            }
            Message<byte[]> message = future.join(); // a failed read fails the stream: the processor reopens it
            String partition = pending.getKey();
            pending.setValue(readers.get(partition).readNextAsync());
            token = token.advancedTo(partition, message.getMessageId());
            Optional<DomainEventMessage<?>> event = converter.convert(message);
            if (event.isPresent()) {
                ready.add(new GenericTrackedDomainEventMessage<>(token, event.get()));
            } else {
                logger.warn("Message {} of {} is not an event this service reads (ce_type {}): skipped",
                            message.getMessageId(), partition, message.getProperty("ce_type"));
            }
            any = true;
        }
        return any;
    }

    @Override
    public void close() {
        next.values().forEach(future -> future.cancel(false));
        readers.values().forEach(reader -> reader.closeAsync());
    }
}
