package io.github.pulsaroutbox.pulsar;

import org.apache.pulsar.client.api.BatcherBuilder;
import org.apache.pulsar.client.api.HashingScheme;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.ProducerBuilder;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SchemaSerializationException;
import org.apache.pulsar.client.api.TypedMessageBuilder;
import org.apache.pulsar.client.api.schema.SchemaDefinition;
import org.axonframework.common.AxonConfigurationException;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.relay.OutboxPublisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

import static org.axonframework.common.BuilderUtils.assertNonNull;
import static org.axonframework.common.BuilderUtils.assertThat;

/**
 * Publishes outbox rows to Apache Pulsar through the application's {@link PulsarClient}.
 * <p>
 * Without segments ({@link #publish(OutboxEntry, String)}): one producer per topic, created on first use and reused;
 * its key-based batching and Murmur3 key hashing keep each key on one partition and in order, also for Key_Shared
 * consumers and consumers in other languages. With segments ({@link #openSession}, the relay's default): per segment
 * and topic one unbatched producer per partition, named {@code <prefix>-<segment>} (stable, so the broker's
 * deduplication state follows the segment across nodes and restarts), each message with the relay's sequence id, keys
 * routed to partitions with the same Murmur3 hash. Each
 * message: key = aggregate id, value = payload JSON (UTF-8), event time = event timestamp, properties as in
 * {@link OutboxMessageProperties}. The returned future completes when the broker acknowledged the message.
 */
public final class PulsarOutboxPublisher implements OutboxPublisher {

    private static final Logger logger = LoggerFactory.getLogger(PulsarOutboxPublisher.class);
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    /**
     * Axon metadata sent as message properties by default: the correlation id, and Axon's {@code traceId} (the
     * identifier of the message that caused this one) as the causation id.
     */
    public static final Map<String, String> DEFAULT_METADATA_PROPERTIES = Map.of(
            "correlationId", OutboxMessageProperties.CORRELATION_ID, "traceId", OutboxMessageProperties.CAUSATION_ID);

    private final PulsarClient client;
    private final String source;
    private final Duration sendTimeout;
    private final boolean batching;
    private final Duration batchingMaxPublishDelay;
    private final int maxPendingMessages;
    private final Consumer<ProducerBuilder<byte[]>> producerCustomizer;
    private final boolean registerSchemas;
    private final Function<String, Class<?>> eventClasses;
    private final String producerNamePrefix;
    private final Function<String, String> eventTypeNames;
    private final Map<String, String> metadataProperties;
    private final MessagePropertiesCustomizer propertiesCustomizer;
    private final PublishObservations observations;
    private final io.micrometer.observation.ObservationRegistry observationRegistry;
    private final Map<String, Creation> producers = new ConcurrentHashMap<>();
    /**
     * Per segment, its open producers by topic, one per partition (sessions opened by {@link #openSession}): the
     * relay routes keys to partitions itself, as Pulsar's Murmur3 routing does, so that each partition's sequence ids
     * are known.
     */
    private final Map<Integer, Map<String, List<Producer<byte[]>>>> segmentProducers = new ConcurrentHashMap<>();
    private final Map<String, Optional<Schema<byte[]>>> schemas = new ConcurrentHashMap<>();
    /** Per segment, the closing of its producers, until done: a new session for it waits for it. */
    private final Map<Integer, CompletableFuture<Void>> closingSegments = new ConcurrentHashMap<>();

    private PulsarOutboxPublisher(Builder builder) {
        builder.validate();
        this.client = builder.client;
        this.source = builder.source;
        this.sendTimeout = builder.sendTimeout;
        this.batching = builder.batching;
        this.batchingMaxPublishDelay = builder.batchingMaxPublishDelay;
        this.maxPendingMessages = builder.maxPendingMessages;
        this.producerCustomizer = builder.producerCustomizer;
        this.registerSchemas = builder.registerSchemas;
        this.eventClasses = builder.eventClasses;
        this.producerNamePrefix = builder.producerNamePrefix != null ? builder.producerNamePrefix : builder.source;
        this.eventTypeNames = builder.eventTypeNames;
        this.metadataProperties = Map.copyOf(builder.metadataProperties);
        this.propertiesCustomizer = builder.propertiesCustomizer;
        this.observationRegistry = builder.observationRegistry;
        this.observations = new PublishObservations(builder.observationRegistry);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Sends through the topic's shared producer. The producer is created on first use without blocking the caller;
     * a creation that failed for a reason retrying may fix (the broker unreachable, a lookup that timed out) is
     * remembered for the topic (its sends fail at once with that failure) until it may be tried again, backing off
     * from 1 second up to 30 seconds, so that an unreachable topic never holds up others.
     */
    @Override
    public CompletableFuture<?> publish(OutboxEntry entry, String topic) {
        CompletableFuture<Producer<byte[]>> producer = producer(topic);
        // sends chained on a pending creation may run in any order once it completes: the relay never has two
        // unacknowledged sends of one aggregate unless a failure fails every later send (failsLaterSendsAfterAFailure)
        return producer.thenCompose(used -> send(message(used, entry), entry, topic).whenComplete((id, error) -> {
            if (error != null && producerIsGone(error)) {
                evict(topic, used);
            }
        }));
    }

    /**
     * A publisher with the same client and settings whose segment producers are named
     * {@code <producerNamePrefix>-<stream>-<segment>}; it has producers of its own (close it separately).
     */
    @Override
    public PulsarOutboxPublisher forStream(String stream) {
        return builder().pulsarClient(client).source(source).sendTimeout(sendTimeout).batching(batching)
                        .batchingMaxPublishDelay(batchingMaxPublishDelay).maxPendingMessages(maxPendingMessages)
                        .producerCustomizer(producerCustomizer).registerSchemas(registerSchemas)
                        .eventClasses(eventClasses).eventTypeNames(eventTypeNames)
                        .metadataProperties(metadataProperties).propertiesCustomizer(propertiesCustomizer)
                        .observationRegistry(observationRegistry)
                        .producerNamePrefix(producerNamePrefix + "-" + stream)
                        .build();
    }

    /** Completes when the topic's shared producer exists (created now if needed), or fails as its creation did. */
    @Override
    public CompletableFuture<Void> prepare(String topic) {
        return producer(topic).thenApply(producer -> null);
    }

    /**
     * Sends through the producer of the segment's session for the topic, with the given sequence id. Without an open
     * session (never opened, or its producer was closed, fenced or its topic terminated) the send fails: the relay
     * opens a new session, which tells it what the broker stored, before it sends again.
     */
    @Override
    public CompletableFuture<?> publish(OutboxEntry entry, String topic, int segment, long sequenceId) {
        List<Producer<byte[]>> partitions = segmentProducers.getOrDefault(segment, Map.of()).get(topic);
        if (partitions == null) {
            return CompletableFuture.failedFuture(new PulsarClientException.AlreadyClosedException(
                    "No open outbox producer for topic " + topic + " and segment " + segment));
        }
        Producer<byte[]> producer = partitions.get(partitionOf(entry.aggregateId(), partitions.size()));
        return send(message(producer, entry).sequenceId(sequenceId), entry, topic).whenComplete((id, error) -> {
            if (error != null && producerIsGone(error)) {
                closeSession(segment, topic, partitions);
            }
        });
    }

    private TypedMessageBuilder<byte[]> message(Producer<byte[]> producer, OutboxEntry entry) {
        Optional<Schema<byte[]>> schema = registerSchemas ? schemaOf(entry.eventType()) : Optional.empty();
        TypedMessageBuilder<byte[]> message = schema.isPresent() ? producer.newMessage(schema.get())
                                                                 : producer.newMessage();
        return message.key(entry.aggregateId())
                      .value(entry.payload().getBytes(StandardCharsets.UTF_8))
                      .eventTime(entry.timestamp().toEpochMilli());
    }

    /** Sends with the entry's properties, observed (and its trace context added) as {@link PublishObservations}. */
    private CompletableFuture<org.apache.pulsar.client.api.MessageId> send(TypedMessageBuilder<byte[]> message,
                                                                          OutboxEntry entry, String topic) {
        return observations.observe(entry, topic, properties(entry),
                                    properties -> message.properties(properties).sendAsync());
    }

    @Override
    public boolean supportsSequenceIds() {
        return true;
    }

    /**
     * Closes the segment's producers for the topic, if open, and creates new ones named
     * {@code <producerNamePrefix>-<segment>} (one per partition), without blocking: the broker refuses them while
     * another process's producer holds the name (a second fence, besides the segment's claim), and answers with the
     * last sequence id it stored under the name. Producers created after the segment was closed meanwhile are closed
     * again, and the future fails.
     */
    @Override
    public CompletableFuture<Session> openSession(String topic, int segment) {
        Map<String, List<Producer<byte[]>>> open =
                segmentProducers.computeIfAbsent(segment, s -> new ConcurrentHashMap<>());
        List<Producer<byte[]>> previous;
        synchronized (open) {
            previous = open.remove(topic);
        }
        CompletableFuture<Void> closed = closeAll(previous).thenCompose(
                v -> closingSegments.getOrDefault(segment, CompletableFuture.completedFuture(null)));
        String name = producerName(segment);
        return closed.thenCompose(v -> client.getPartitionsForTopic(topic))
                     .thenCompose(partitions -> createAll(partitions, name))
                     .thenApply(partitions -> {
                         synchronized (open) {
                             if (segmentProducers.get(segment) != open) {
                                 trackClosing(segment, closeAll(partitions));
                                 throw new CompletionException(new PulsarClientException.AlreadyClosedException(
                                         "Segment " + segment + " was closed while its producer opened"));
                             }
                             trackClosing(segment, closeAll(open.put(topic, partitions)));
                         }
                         return session(topic, name, partitions);
                     });
    }

    /** One unbatched producer per partition, all created or none (the created ones are closed on a failure). */
    private CompletableFuture<List<Producer<byte[]>>> createAll(List<String> partitions, String name) {
        List<CompletableFuture<Producer<byte[]>>> created = new ArrayList<>(partitions.size());
        for (String partition : partitions) {
            // unbatched: the key-based batcher can send a later batch of a key before an earlier one, which would put
            // sequence ids out of order, and the broker drops what comes below its last id
            created.add(newProducer(partition).producerName(name).enableBatching(false).createAsync());
        }
        return CompletableFuture.allOf(created.toArray(CompletableFuture[]::new))
                                .handle((v, error) -> {
                                    if (error != null) {
                                        created.stream().filter(f -> !f.isCompletedExceptionally())
                                               .forEach(f -> f.thenAccept(p -> p.closeAsync()));
                                        throw error instanceof CompletionException c ? c
                                                                                     : new CompletionException(error);
                                    }
                                    return created.stream().map(CompletableFuture::join).toList();
                                });
    }

    private Session session(String topic, String name, List<Producer<byte[]>> partitions) {
        long[] last = partitions.stream().mapToLong(Producer::getLastSequenceId).toArray();
        long highest = java.util.Arrays.stream(last).max().orElse(-1);
        logger.debug("Opened outbox producer {} on {} ({} partition(s), last sequence ids {})", name, topic,
                     partitions.size(), java.util.Arrays.toString(last));
        return new Session() {
            @Override
            public long lastStored(String key) {
                return last[PulsarOutboxPublisher.partitionOf(key, last.length)];
            }

            @Override
            public long highestStored() {
                return highest;
            }

            @Override
            public int partitionOf(String key) {
                return PulsarOutboxPublisher.partitionOf(key, last.length);
            }

            @Override
            public long lastStoredIn(int partition) {
                return partition >= 0 && partition < last.length ? last[partition] : -1;
            }
        };
    }

    private static CompletableFuture<Void> closeAll(List<Producer<byte[]>> producers) {
        if (producers == null || producers.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.allOf(producers.stream().map(p -> p.closeAsync().exceptionally(e -> null))
                                                .toArray(CompletableFuture[]::new));
    }

    /** The partition Pulsar's Murmur3 key routing picks for a key (0 for a topic without partitions). */
    private static int partitionOf(String key, int partitions) {
        return partitions == 1 ? 0 : io.github.pulsaroutbox.OutboxSegments.hash(key) % partitions;
    }

    /**
     * Closes the segment's producers without blocking; a session opened for the segment afterwards waits until they
     * are closed, so that the broker does not refuse the name as still in use.
     */
    @Override
    public void closeSegment(int segment) {
        Map<String, List<Producer<byte[]>>> open = segmentProducers.remove(segment);
        if (open != null) {
            List<CompletableFuture<Void>> closing = new ArrayList<>();
            synchronized (open) {
                open.values().forEach(partitions -> closing.add(closeAll(partitions)));
                open.clear();
            }
            trackClosing(segment, CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)));
        }
    }

    /**
     * Remembers that producers of the segment are closing (added to closings already running), so that its next
     * session waits for them: the broker would refuse the stable name while an old producer still holds it.
     */
    private void trackClosing(int segment, CompletableFuture<Void> closing) {
        if (closing.isDone()) {
            return;
        }
        CompletableFuture<Void> all = closingSegments.merge(segment, closing,
                                                            (running, added) -> CompletableFuture.allOf(running, added));
        all.whenComplete((v, e) -> closingSegments.remove(segment, all));
    }

    private void closeSession(int segment, String topic, List<Producer<byte[]>> partitions) {
        Map<String, List<Producer<byte[]>>> open = segmentProducers.get(segment);
        if (open != null && open.remove(topic, partitions)) {
            trackClosing(segment, closeAll(partitions));
        }
    }

    /** The stable producer name of a segment (unique per topic: one producer per segment and topic). */
    String producerName(int segment) {
        return producerNamePrefix + "-" + segment;
    }

    /** A producer that was closed, fenced by another one, or whose topic was terminated never sends again. */
    private static boolean producerIsGone(Throwable error) {
        Throwable cause = unwrap(error);
        return cause instanceof PulsarClientException.AlreadyClosedException
                || cause instanceof PulsarClientException.ProducerFencedException
                || cause instanceof PulsarClientException.TopicTerminatedException;
    }

    /** Forgets a producer that cannot send any more, so that the next send to its topic creates a new one. */
    private void evict(String topic, Producer<byte[]> producer) {
        Creation creation = producers.get(topic);
        if (creation != null && creation.producer().getNow(null) == producer && producers.remove(topic, creation)) {
            logger.info("Outbox producer for topic {} was closed, fenced or terminated: a new one is created for "
                                + "the next send", topic);
            producer.closeAsync().exceptionally(e -> null);
        }
    }

    /**
     * False: the broker can reject one message alone while later ones on the same producer are persisted (a topic's
     * {@code max-message-size} policy answers {@code NotAllowed} for that message only; with schema registration a
     * message's new schema can be rejected), so the relay keeps one unacknowledged send per aggregate. Measured with
     * the benchmark (docs/benchmarks.md): the relay drains as fast within the noise as with pipelining per aggregate
     * when many aggregates are pending, because one row of each is in flight at once.
     */
    @Override
    public Optional<Duration> sendTimeout() {
        return sendTimeout.isZero() ? Optional.empty() : Optional.of(sendTimeout);
    }

    @Override
    public boolean failsLaterSendsAfterAFailure() {
        return false;
    }

    /**
     * The JSON schema of an event type's class (its current version: rows are upcast before they are sent), wrapped
     * so that the JSON bytes are validated against it and sent with its schema version. Empty when the class is not
     * on the classpath: such a message goes out without a schema.
     */
    private Optional<Schema<byte[]>> schemaOf(String eventType) {
        return schemas.computeIfAbsent(eventType, type -> {
            Class<?> eventClass;
            try {
                eventClass = eventClasses.apply(type);
            } catch (RuntimeException | LinkageError e) {
                logger.warn("No class for event type {}: its messages are sent without a schema", type);
                return Optional.empty();
            }
            return Optional.of(Schema.AUTO_PRODUCE_BYTES(Schema.JSON(SchemaDefinition.builder()
                                                                                     .withPojo(eventClass)
                                                                                     .withAlwaysAllowNull(true)
                                                                                     .build())));
        });
    }

    /**
     * Pulsar's exceptions by what retrying can do: time-outs and connection trouble are retried until the broker
     * answers; authorization/authentication failures and lookups answering "not found" (a bundle moving) are retried
     * for a bounded time; a topic that does not exist, a terminated topic, an incompatible schema or a message over
     * the broker's size limit are parked at once.
     */
    @Override
    public FailureKind classify(Throwable failure) {
        Throwable cause = unwrap(failure);
        if (cause instanceof PulsarClientException.TimeoutException) {
            return FailureKind.TIMEOUT;
        }
        if (cause instanceof PulsarClientException.ConnectException
                || cause instanceof PulsarClientException.LookupException
                || cause instanceof PulsarClientException.ProducerBusyException
                // closed under the relay, or fenced by another node's producer: the relay opens the session again
                || cause instanceof PulsarClientException.AlreadyClosedException
                || cause instanceof PulsarClientException.ProducerFencedException
                || unreachable(cause)) {
            return FailureKind.UNAVAILABLE;
        }
        if (cause instanceof PulsarClientException.TopicDoesNotExistException) {
            return FailureKind.UNKNOWN_TOPIC;
        }
        if (cause instanceof PulsarClientException.NotFoundException) { // e.g. during a bundle move: bounded retry
            return FailureKind.NOT_FOUND;
        }
        if (cause instanceof PulsarClientException.AuthorizationException
                || cause instanceof PulsarClientException.AuthenticationException) {
            return FailureKind.NOT_AUTHORIZED;
        }
        if (cause instanceof PulsarClientException.NotAllowedException
                || cause instanceof PulsarClientException.TopicTerminatedException
                || cause instanceof PulsarClientException.IncompatibleSchemaException
                || cause instanceof PulsarClientException.InvalidTopicNameException) {
            return FailureKind.REFUSED;
        }
        if (cause instanceof PulsarClientException.InvalidMessageException) { // refused by the client itself
            String message = String.valueOf(cause.getMessage());
            return message.contains("size") || message.contains("exceeds") ? FailureKind.MESSAGE_TOO_LARGE
                                                                              : FailureKind.REFUSED;
        }
        if (cause instanceof SchemaSerializationException) {
            return FailureKind.UNREADABLE_PAYLOAD;
        }
        return FailureKind.TRANSIENT;
    }

    /**
     * Failures the client raises before a message is written to the broker: its own size and message checks, a full
     * queue, a closed producer (or no open session).
     */
    @Override
    public boolean neverSent(Throwable failure) {
        Throwable cause = unwrap(failure);
        return cause instanceof PulsarClientException.InvalidMessageException
                || cause instanceof PulsarClientException.ProducerQueueIsFullError
                || cause instanceof PulsarClientException.AlreadyClosedException;
    }

    /**
     * Whether a failure says the broker (or the lookup service) cannot be reached: a refused or timed-out connection,
     * a host that does not resolve, a lost channel. The client often wraps these in a plain
     * {@link PulsarClientException}, so the whole cause chain is looked at.
     */
    private static boolean unreachable(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof java.net.ConnectException
                    || cause instanceof java.net.UnknownHostException
                    || cause instanceof java.net.NoRouteToHostException
                    || cause instanceof java.net.SocketTimeoutException
                    || cause instanceof java.nio.channels.ClosedChannelException) {
                return true;
            }
        }
        return false;
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof java.util.concurrent.CompletionException
                || cause instanceof java.util.concurrent.ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private Map<String, String> properties(OutboxEntry entry) {
        Map<String, String> properties = new HashMap<>(16);
        properties.put(OutboxMessageProperties.SPEC_VERSION, OutboxMessageProperties.SPEC_VERSION_VALUE);
        properties.put(OutboxMessageProperties.ID, entry.id());
        properties.put(OutboxMessageProperties.SOURCE, source);
        properties.put(OutboxMessageProperties.TYPE, eventTypeNames.apply(entry.eventType()));
        properties.put(OutboxMessageProperties.TIME, entry.timestamp().toString());
        properties.put(OutboxMessageProperties.SUBJECT, entry.aggregateId());
        properties.put(OutboxMessageProperties.DATA_CONTENT_TYPE, OutboxMessageProperties.DATA_CONTENT_TYPE_VALUE);
        properties.put(OutboxMessageProperties.SCHEMA_VERSION, entry.version());
        properties.put(OutboxMessageProperties.AGGREGATE_TYPE, entry.aggregateType());
        properties.put(OutboxMessageProperties.AGGREGATE_ID, entry.aggregateId());
        properties.put(OutboxMessageProperties.AGGREGATE_SEQUENCE, Long.toString(entry.aggregateSequence()));
        if (entry.traceParent() != null) {
            properties.put(OutboxMessageProperties.TRACE_PARENT, entry.traceParent());
        }
        if (!metadataProperties.isEmpty() && entry.metadata() != null && entry.metadata().length() > 2) {
            metadataOf(entry).forEach((key, value) -> {
                String property = metadataProperties.get(key);
                if (property != null && value != null) {
                    properties.put(property, value.isValueNode() ? value.asText() : value.toString());
                }
            });
        }
        propertiesCustomizer.customize(entry, properties);
        return properties;
    }

    /** The row's Axon metadata (a JSON object), as a map; empty when it cannot be read. */
    private static Map<String, com.fasterxml.jackson.databind.JsonNode> metadataOf(OutboxEntry entry) {
        try {
            com.fasterxml.jackson.databind.JsonNode tree = JSON.readTree(entry.metadata());
            Map<String, com.fasterxml.jackson.databind.JsonNode> fields = new HashMap<>();
            if (tree != null && tree.isObject()) {
                tree.fields().forEachRemaining(field -> fields.put(field.getKey(), field.getValue()));
            }
            return fields;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            logger.debug("Metadata of row {} is not a JSON object: no metadata properties", entry.id());
            return Map.of();
        }
    }

    private CompletableFuture<Producer<byte[]>> producer(String topic) {
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
            CompletableFuture<Producer<byte[]>> created = newProducer(t).createAsync().orTimeout(
                    sendTimeout.isZero() ? 30_000 : sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
            Creation next = new Creation(created, failures, new java.util.concurrent.atomic.AtomicLong(
                    System.nanoTime() + TimeUnit.DAYS.toNanos(1))); // set when it fails
            created.whenComplete((p, error) -> {
                if (error == null) {
                    logger.debug("Created outbox producer for topic {}", t);
                } else if (!classify(error).isRetryable()) {
                    // a refusal (e.g. the topic does not exist) fails fast: the next send asks again, so that a row
                    // an operator retries after fixing the cause is not refused from memory
                    next.retryAfterNanos().set(System.nanoTime());
                } else {
                    long backoff = Math.min(TimeUnit.SECONDS.toNanos(1) << Math.min(failures, 5),
                                            TimeUnit.SECONDS.toNanos(30));
                    next.retryAfterNanos().set(System.nanoTime() + backoff);
                    logger.warn("Could not create the outbox producer for topic {} ({}); its sends fail until it is "
                                        + "tried again in {} ms", t, unwrap(error).toString(),
                                TimeUnit.NANOSECONDS.toMillis(backoff));
                }
            });
            return next;
        }).producer();
    }

    /** A producer's creation: pending, done, or failed (then remembered until {@code retryAfterNanos}). */
    private record Creation(CompletableFuture<Producer<byte[]>> producer, int failures,
                            java.util.concurrent.atomic.AtomicLong retryAfterNanos) {

        boolean mayRetry() {
            return producer.isCompletedExceptionally() && System.nanoTime() - retryAfterNanos.get() >= 0;
        }
    }

    private ProducerBuilder<byte[]> newProducer(String topic) {
        ProducerBuilder<byte[]> builder = client.newProducer(Schema.BYTES)
                                                .topic(topic)
                                                .hashingScheme(HashingScheme.Murmur3_32Hash)
                                                .enableBatching(batching)
                                                .batcherBuilder(BatcherBuilder.KEY_BASED)
                                                .batchingMaxPublishDelay(batchingMaxPublishDelay.toNanos(),
                                                                         TimeUnit.NANOSECONDS)
                                                .blockIfQueueFull(true)
                                                .maxPendingMessages(maxPendingMessages)
                                                .sendTimeout((int) sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
        producerCustomizer.accept(builder);
        return builder;
    }

    @Override
    public void close() {
        segmentProducers.keySet().forEach(this::closeSegment);
        List<CompletableFuture<?>> closing = new ArrayList<>(closingSegments.values());
        producers.values().forEach(creation -> closing.add(
                creation.producer().thenCompose(Producer::closeAsync).exceptionally(e -> null)));
        producers.clear();
        try {
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            logger.warn("Closing the outbox producers did not complete: {}", e.toString());
        }
    }

    /**
     * Builds a {@link PulsarOutboxPublisher}. Required: {@link #pulsarClient}. Defaults: source
     * {@code pulsar-outbox}, send timeout 30 s, key-based batching on with 1 ms max delay, 1000 pending messages per
     * producer.
     */
    public static final class Builder {
        private PulsarClient client;
        private String source = "pulsar-outbox";
        private Duration sendTimeout = Duration.ofSeconds(30);
        private boolean batching = true;
        private Duration batchingMaxPublishDelay = Duration.ofMillis(1);
        private int maxPendingMessages = 1000;
        private Consumer<ProducerBuilder<byte[]>> producerCustomizer = b -> {
        };
        private boolean registerSchemas = false;
        private Function<String, Class<?>> eventClasses = Builder::loadClass;
        private String producerNamePrefix;
        private Function<String, String> eventTypeNames = io.github.pulsaroutbox.EventTypeNames.defaults();
        private Map<String, String> metadataProperties = DEFAULT_METADATA_PROPERTIES;
        private MessagePropertiesCustomizer propertiesCustomizer = (entry, properties) -> {
        };
        private io.micrometer.observation.ObservationRegistry observationRegistry =
                io.micrometer.observation.ObservationRegistry.NOOP;

        private static Class<?> loadClass(String name) {
            ClassLoader context = Thread.currentThread().getContextClassLoader();
            try {
                return Class.forName(name, false, context != null ? context
                                                                  : PulsarOutboxPublisher.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalArgumentException("No class " + name, e);
            }
        }

        private Builder() {
        }

        /** The application's client (reused, never closed here). Required. */
        public Builder pulsarClient(PulsarClient client) {
            assertNonNull(client, "PulsarClient may not be null");
            this.client = client;
            return this;
        }

        /** The CloudEvents {@code source} set on every message. */
        public Builder source(String source) {
            assertThat(source, s -> s != null && !s.isBlank(), "source may not be blank");
            this.source = source;
            return this;
        }

        /**
         * The producer's send timeout (default 30 s); {@link Duration#ZERO} for none, as in Pulsar (the relay's ack
         * timeout still bounds every send).
         */
        public Builder sendTimeout(Duration sendTimeout) {
            assertThat(sendTimeout, d -> d != null && !d.isNegative(), "sendTimeout may not be negative");
            this.sendTimeout = sendTimeout;
            return this;
        }

        /**
         * The prefix of the stable producer names ({@code <prefix>-<segment>}) used when the relay owns segments
         * (default: the {@link #source(String)}). It must be the same on every replica of a service, stay the same
         * across restarts (the broker's deduplication state is kept per producer name), and differ from the names
         * of any other service's producers on the same topics.
         */
        public Builder producerNamePrefix(String producerNamePrefix) {
            assertThat(producerNamePrefix, p -> p != null && p.matches("[A-Za-z0-9._:-]{1,100}"),
                       "producerNamePrefix must be 1 to 100 letters, digits, '.', '_', ':' or '-'");
            this.producerNamePrefix = producerNamePrefix;
            return this;
        }

        /**
         * The logical event type names sent as {@code ce_type}, from the stored payload type name (the class name);
         * default {@link io.github.pulsaroutbox.EventTypeNames#defaults()}: {@code @Outbox.EventType}, else the
         * class's simple name.
         */
        public Builder eventTypeNames(Function<String, String> eventTypeNames) {
            assertNonNull(eventTypeNames, "eventTypeNames may not be null");
            this.eventTypeNames = eventTypeNames;
            return this;
        }

        /**
         * Which Axon metadata entries are sent, as which message property: metadata key to property name (default
         * {@link #DEFAULT_METADATA_PROPERTIES}: {@code correlationId} as {@code ce_correlationid}, {@code traceId} as
         * {@code ce_causationid}). Entries not listed stay inside the service; an empty map sends none.
         */
        public Builder metadataProperties(Map<String, String> metadataProperties) {
            assertNonNull(metadataProperties, "metadataProperties may not be null");
            metadataProperties.forEach((key, property) -> assertThat(
                    property, p -> p != null && p.matches("[A-Za-z0-9_.-]{1,100}")
                            && !p.startsWith("ce_spec") && !p.equals(OutboxMessageProperties.ID)
                            && !p.equals(OutboxMessageProperties.TYPE),
                    "metadata property name for '" + key + "' must be 1 to 100 letters, digits, '_', '.' or '-' and "
                            + "not one the outbox sets itself"));
            this.metadataProperties = Map.copyOf(metadataProperties);
            return this;
        }

        /** Changes each message's properties last (add, remove, rename), e.g. for further metadata. */
        public Builder propertiesCustomizer(MessagePropertiesCustomizer customizer) {
            assertNonNull(customizer, "propertiesCustomizer may not be null");
            this.propertiesCustomizer = customizer;
            return this;
        }

        /**
         * Observes each send through Micrometer Observation (default: no-op, nothing observed): with a tracing
         * bridge, a consumer span {@code pulsar.outbox.relay} continues the trace stored with the row and a producer
         * span {@code pulsar.outbox.send}, its child, covers the send until the broker's acknowledgement; the message's
         * {@code traceparent} then names the producer span. With a meter handler, both yield timers tagged with the
         * topic and aggregate type.
         */
        public Builder observationRegistry(io.micrometer.observation.ObservationRegistry observationRegistry) {
            assertNonNull(observationRegistry, "observationRegistry may not be null");
            this.observationRegistry = observationRegistry;
            return this;
        }

        /** Key-based batching on or off (default on). */
        public Builder batching(boolean batching) {
            this.batching = batching;
            return this;
        }

        public Builder batchingMaxPublishDelay(Duration delay) {
            assertThat(delay, d -> d != null && !d.isNegative(), "batchingMaxPublishDelay may not be negative");
            this.batchingMaxPublishDelay = delay;
            return this;
        }

        public Builder maxPendingMessages(int maxPendingMessages) {
            assertThat(maxPendingMessages, n -> n > 0, "maxPendingMessages must be positive");
            this.maxPendingMessages = maxPendingMessages;
            return this;
        }

        /**
         * Registers the JSON schema of each event type in Pulsar's schema registry for its topic and sends each
         * message with it (default off: messages are plain bytes). The schema is derived from the event class
         * ({@code eventClasses}, by default {@code Class.forName} of the type name). The broker checks each new
         * schema against the topic's compatibility strategy; a rejection parks the row.
         */
        public Builder registerSchemas(boolean registerSchemas) {
            this.registerSchemas = registerSchemas;
            return this;
        }

        /** Resolves event type names to classes, for {@link #registerSchemas(boolean)}. */
        public Builder eventClasses(Function<String, Class<?>> eventClasses) {
            assertNonNull(eventClasses, "eventClasses may not be null");
            this.eventClasses = eventClasses;
            return this;
        }

        /** Further producer settings (applied last), e.g. authentication-related or compression. */
        public Builder producerCustomizer(Consumer<ProducerBuilder<byte[]>> customizer) {
            assertNonNull(customizer, "producerCustomizer may not be null");
            this.producerCustomizer = customizer;
            return this;
        }

        public PulsarOutboxPublisher build() {
            return new PulsarOutboxPublisher(this);
        }

        void validate() throws AxonConfigurationException {
            assertNonNull(client, "The PulsarClient is a hard requirement and should be provided");
        }
    }
}
