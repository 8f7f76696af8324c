package io.github.pulsaroutbox.pulsar;

import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.ProducerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * One shared producer per topic (sends without sequence ids), created on first use without blocking the caller and
 * reused. A creation that failed for a reason retrying may fix (the broker unreachable, a lookup that timed out) is
 * remembered for the topic, so that its sends fail at once with that failure, until it may be tried again (backing off
 * from 1 second up to 30 seconds); a refusal (e.g. the topic does not exist) is asked again by the next send. A producer
 * that cannot send again is evicted and closed; the next send creates a new one.
 */
final class TopicProducers {

    private static final Logger logger = LoggerFactory.getLogger(TopicProducers.class);

    private final Function<String, ProducerBuilder<byte[]>> newProducer;
    private final Duration sendTimeout;
    private final Map<String, Creation> producers = new ConcurrentHashMap<>();

    /**
     * @param newProducer a producer builder for a topic, with the publisher's settings
     * @param sendTimeout the producer's send timeout ({@link Duration#ZERO}: none), also bounding a creation
     */
    TopicProducers(Function<String, ProducerBuilder<byte[]>> newProducer, Duration sendTimeout) {
        this.newProducer = newProducer;
        this.sendTimeout = sendTimeout;
    }

    /** The topic's producer: existing, being created, or created now; failed as its creation did. */
    CompletableFuture<Producer<byte[]>> producer(String topic) {
        Creation creation = producers.get(topic);
        if (creation != null && !creation.mayRetry()) {
            return creation.producer();
        }
        return producers.compute(topic, (t, existing) -> {
            if (existing != null && !existing.mayRetry()) {
                return existing; // another thread started a new one meanwhile
            }
            int failures = existing == null ? 0 : existing.failures() + 1;
            // bounded even if the client's own operation timeout is not: sends chained on it never wait forever
            CompletableFuture<Producer<byte[]>> created = newProducer.apply(t).createAsync().orTimeout(
                    sendTimeout.isZero() ? 30_000 : sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
            Creation next = new Creation(created, failures,
                                         new AtomicLong(System.nanoTime() + TimeUnit.DAYS.toNanos(1))); // set on failure
            created.whenComplete((p, error) -> {
                if (error == null) {
                    logger.debug("Created outbox producer for topic {}", t);
                } else if (!PulsarFailures.classify(error).isRetryable()) {
                    // a refusal (e.g. the topic does not exist) fails fast: the next send asks again, so that a row
                    // an operator retries after fixing the cause is not refused from memory
                    next.retryAfterNanos().set(System.nanoTime());
                } else {
                    long backoff = Math.min(TimeUnit.SECONDS.toNanos(1) << Math.min(failures, 5),
                                            TimeUnit.SECONDS.toNanos(30));
                    next.retryAfterNanos().set(System.nanoTime() + backoff);
                    logger.warn("Could not create the outbox producer for topic {} ({}); its sends fail until it is "
                                        + "tried again in {} ms", t, PulsarFailures.unwrap(error).toString(),
                                TimeUnit.NANOSECONDS.toMillis(backoff));
                }
            });
            return next;
        }).producer();
    }

    /** Forgets a producer that cannot send any more, so that the next send to its topic creates a new one. */
    void evict(String topic, Producer<byte[]> producer) {
        Creation creation = producers.get(topic);
        if (creation != null && creation.producer().getNow(null) == producer && producers.remove(topic, creation)) {
            logger.info("Outbox producer for topic {} was closed, fenced or terminated: a new one is created for "
                                + "the next send", topic);
            producer.closeAsync().exceptionally(e -> null);
        }
    }

    /** Closes every producer; the returned futures complete when they are closed (never exceptionally). */
    List<CompletableFuture<?>> closeAll() {
        List<CompletableFuture<?>> closing = producers.values().stream()
                .<CompletableFuture<?>>map(creation -> creation.producer().thenCompose(Producer::closeAsync)
                                                               .exceptionally(e -> null))
                .toList();
        producers.clear();
        return closing;
    }

    /** A producer's creation: pending, done, or failed (then remembered until {@code retryAfterNanos}). */
    private record Creation(CompletableFuture<Producer<byte[]>> producer, int failures, AtomicLong retryAfterNanos) {

        boolean mayRetry() {
            return producer.isCompletedExceptionally() && System.nanoTime() - retryAfterNanos.get() >= 0;
        }
    }
}
