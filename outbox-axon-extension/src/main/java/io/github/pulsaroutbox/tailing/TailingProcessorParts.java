package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.deadletter.ProcessingGroupDeadLetters;
import org.axonframework.config.Configuration;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.EventTrackerStatus;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.pooled.PooledStreamingEventProcessor;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.messaging.deadletter.SequencedDeadLetterProcessor;

import java.time.Duration;
import java.util.Optional;

/**
 * The parts of the tailing processor that {@link EventStoreTailingModule} builds when Axon builds the processor, from
 * its processing group's configuration: its token store, its invoker (dead-lettering when the group has a dead-letter
 * queue), the operator's actions on parked events, and the balancer of its segments; and, once started, the processor
 * itself, for the tokens its segments committed.
 * <p>
 * Guarantees: before the processor is built, every part is absent ({@code null} token store, empty optionals); the
 * balancer, when there is one, is the processor's max-segment provider, and is started before the processor starts
 * and stopped by {@link #stop()}.
 */
final class TailingProcessorParts {

    private final String processorName;
    /** {@code null}: no balancing. */
    private final Duration balanceHeartbeat;
    private volatile TokenStore tokenStore;
    private volatile TailingInvoker invoker;
    private volatile ProcessingGroupDeadLetters operations;
    private volatile TailingBalancer balancer;
    private volatile PooledStreamingEventProcessor processor;

    /**
     * @param processorName    the tailing processor's name (its processing group)
     * @param balanceHeartbeat the balancer's heartbeat, or {@code null} for no balancing
     */
    TailingProcessorParts(String processorName, Duration balanceHeartbeat) {
        this.processorName = processorName;
        this.balanceHeartbeat = balanceHeartbeat;
    }

    /**
     * Builds the parts from the processing group's configuration, with {@code handler} as the processor's handler,
     * and makes the balancer (if any) the processor's max-segment provider. Returns the invoker for the processor.
     */
    TailingInvoker build(Configuration config, PooledStreamingEventProcessor.Builder processor,
                         TailingPublisher handler) {
        EventProcessingConfiguration processing = config.eventProcessingConfiguration();
        tokenStore = processing.tokenStore(processorName);
        TailingInvoker.DeadLetters deadLetters = processing.deadLetterQueue(processorName)
                .map(queue -> new TailingInvoker.DeadLetters(
                        queue, processing.deadLetterPolicy(processorName).orElse(null),
                        processing.transactionManager(processorName)))
                .orElse(null);
        invoker = new TailingInvoker(handler, deadLetters);
        handler.deadLettering(deadLetters != null);
        if (balanceHeartbeat != null) {
            balancer = new TailingBalancer(processorName, tokenStore, processing.transactionManager(processorName),
                                           balanceHeartbeat);
            processor.maxSegmentProvider(balancer);
        }
        if (deadLetters != null) {
            operations = new ProcessingGroupDeadLetters("Outbox", deadLetters.queue(),
                                                        invoker.deadLetterProcessor().orElseThrow(),
                                                        deadLetters.transactionManager());
        }
        return invoker;
    }

    /**
     * Looks the built processor up (its status holds each segment's last committed token) and starts the balancer;
     * call before the processor starts, so that it claims only its share.
     */
    void start(Configuration config) {
        processor = config.eventProcessingConfiguration()
                          .eventProcessor(processorName, PooledStreamingEventProcessor.class).orElse(null);
        TailingBalancer current = balancer;
        if (current != null) {
            current.start();
        }
    }

    /** Stops the balancer, if any (giving its presence up). */
    void stop() {
        TailingBalancer current = balancer;
        if (current != null) {
            current.stop();
        }
    }

    /** The processor's token store; {@code null} before it was built. */
    TokenStore tokenStore() {
        return tokenStore;
    }

    /** The dead-letter processor, when the processing group has a dead-letter queue (after the build). */
    Optional<SequencedDeadLetterProcessor<EventMessage<?>>> deadLetterProcessor() {
        TailingInvoker current = invoker;
        return current == null ? Optional.empty() : current.deadLetterProcessor().map(p -> p);
    }

    /** The operator's actions on parked events, when the processing group has a dead-letter queue (after the build). */
    Optional<ProcessingGroupDeadLetters> deadLetters() {
        return Optional.ofNullable(operations);
    }

    /** The token the segment's work package started from or committed last, from the processor's status. */
    Optional<TrackingToken> committedToken(int segment) {
        PooledStreamingEventProcessor current = processor;
        if (current == null) {
            return Optional.empty();
        }
        EventTrackerStatus status = current.processingStatus().get(segment);
        return status == null ? Optional.empty() : Optional.ofNullable(status.getTrackingToken());
    }
}
