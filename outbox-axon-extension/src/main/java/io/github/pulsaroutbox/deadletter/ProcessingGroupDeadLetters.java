package io.github.pulsaroutbox.deadletter;

import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.deadletter.DeadLetter;
import org.axonframework.messaging.deadletter.SequencedDeadLetterProcessor;
import org.axonframework.messaging.deadletter.SequencedDeadLetterQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The operator's view of one processing group's parked events (its Axon dead-letter queue), for the tailing
 * processor (events it could not publish) and for the receiving processors (events their handlers refused): list
 * them, retry them (handled again in order per aggregate, through the group's interceptors) and discard them.
 * Sequences are per aggregate: an aggregate's events behind a parked one wait in the queue with it. Every action is
 * logged with who did it and why; reads and removals run in the group's transactions.
 */
public final class ProcessingGroupDeadLetters {

    private static final Logger logger = LoggerFactory.getLogger(ProcessingGroupDeadLetters.class);

    private final String label;
    private final SequencedDeadLetterQueue<EventMessage<?>> queue;
    private final SequencedDeadLetterProcessor<EventMessage<?>> processor;
    private final TransactionManager transactionManager;

    /**
     * The parked events of a group.
     *
     * @param label              how the log names the group's letters (for example {@code "Outbox"})
     * @param queue              the group's dead-letter queue
     * @param processor          the group's dead-letter processor (Axon's {@code sequencedDeadLetterProcessor})
     * @param transactionManager the group's transaction manager
     */
    public ProcessingGroupDeadLetters(String label, SequencedDeadLetterQueue<EventMessage<?>> queue,
                                      SequencedDeadLetterProcessor<EventMessage<?>> processor,
                                      TransactionManager transactionManager) {
        this.label = Objects.requireNonNull(label, "label");
        this.queue = Objects.requireNonNull(queue, "queue");
        this.processor = Objects.requireNonNull(processor, "processor");
        this.transactionManager = Objects.requireNonNull(transactionManager, "transactionManager");
    }

    /**
     * A parked event.
     *
     * @param id            the event id ({@code ce_id})
     * @param aggregateType the aggregate type
     * @param aggregateId   the aggregate id (the sequence it waits in)
     * @param sequence      its sequence number within the aggregate
     * @param eventType     its payload type
     * @param cause         why it was parked ({@code null} for an event parked only behind an earlier one)
     * @param enqueuedAt    when it was parked
     * @param lastTouched   when it was last tried
     */
    public record Letter(String id, String aggregateType, String aggregateId, long sequence, String eventType,
                         String cause, Instant enqueuedAt, Instant lastTouched) {
    }

    /** How many aggregates have parked events. */
    public long sequences() {
        return transactionManager.fetchInTransaction(queue::amountOfSequences);
    }

    /** How many events are parked (first refused ones and those waiting behind them). */
    public long size() {
        return transactionManager.fetchInTransaction(queue::size);
    }

    /** A page of parked events, of one aggregate when {@code aggregateId} is given, in queue order. */
    public List<Letter> list(String aggregateId, int page, int size) {
        if (page < 0 || size < 1 || size > 500) {
            throw new IllegalArgumentException("page must be 0 or more and size between 1 and 500");
        }
        List<Letter> all = transactionManager.fetchInTransaction(() -> {
            List<Letter> letters = new ArrayList<>();
            if (aggregateId != null) {
                queue.deadLetterSequence(aggregateId).forEach(letter -> letters.add(letterOf(letter)));
            } else {
                queue.deadLetters().forEach(sequence -> sequence.forEach(letter -> letters.add(letterOf(letter))));
            }
            return letters;
        });
        int from = Math.min(all.size(), page * size);
        return List.copyOf(all.subList(from, Math.min(all.size(), from + size)));
    }

    /** The parked event with this id. */
    public Optional<Letter> find(String id) {
        return transactionManager.fetchInTransaction(() -> deadLetter(id).map(ProcessingGroupDeadLetters::letterOf));
    }

    /**
     * Handles the aggregate's parked events again, in order, when the one with this id is the first of them.
     *
     * @return whether it was the first of its aggregate's parked events and was handled (its sequence then goes on
     * until an event fails again)
     */
    public boolean retry(String id, String actor, String reason) {
        logger.info("{} dead letter {}: retry by {} ({})", label, id, actor, reason);
        return processor.process(letter -> id.equals(letter.message().getIdentifier()));
    }

    /** Handles the parked events of one aggregate again, in order; returns how many were handled. */
    public int retryAggregate(String aggregateId, String actor, String reason) {
        logger.info("{} dead letters of aggregate {}: retry by {} ({})", label, aggregateId, actor, reason);
        long before = transactionManager.fetchInTransaction(() -> queue.sequenceSize(aggregateId));
        processor.process(letter -> aggregateId.equals(aggregateIdOf(letter)));
        long after = transactionManager.fetchInTransaction(() -> queue.sequenceSize(aggregateId));
        return (int) (before - after);
    }

    /**
     * Handles every parked event again, aggregate by aggregate (an aggregate whose first event fails again stays
     * parked, the others go on); returns how many were handled.
     */
    public int retryAll(String actor, String reason) {
        logger.info("{} dead letters: retry all by {} ({})", label, actor, reason);
        long before = transactionManager.fetchInTransaction(queue::size);
        List<String> aggregates = transactionManager.fetchInTransaction(() -> {
            List<String> ids = new ArrayList<>();
            for (Iterable<DeadLetter<? extends EventMessage<?>>> sequence : queue.deadLetters()) {
                for (DeadLetter<? extends EventMessage<?>> letter : sequence) {
                    ids.add(aggregateIdOf(letter));
                    break;
                }
            }
            return ids;
        });
        for (String aggregateId : aggregates) {
            processor.process(letter -> Objects.equals(aggregateId, aggregateIdOf(letter)));
        }
        return (int) (before - transactionManager.fetchInTransaction(queue::size));
    }

    /** Removes the parked event with this id for good (it is never handled); {@code reason} is required. */
    public boolean discard(String id, String actor, String reason) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("discarding a dead letter needs a reason");
        }
        return transactionManager.fetchInTransaction(() -> {
            Optional<DeadLetter<? extends EventMessage<?>>> letter = deadLetter(id);
            letter.ifPresent(found -> {
                queue.evict(found);
                logger.warn("{} dead letter {} ({} of aggregate {}) discarded by {}: {}", label, id,
                            found.message().getPayloadType().getName(), aggregateIdOf(found), actor, reason);
            });
            return letter.isPresent();
        });
    }

    private Optional<DeadLetter<? extends EventMessage<?>>> deadLetter(String id) {
        Predicate<DeadLetter<? extends EventMessage<?>>> matches = letter -> id.equals(letter.message().getIdentifier());
        for (Iterable<DeadLetter<? extends EventMessage<?>>> sequence : queue.deadLetters()) {
            for (DeadLetter<? extends EventMessage<?>> letter : sequence) {
                if (matches.test(letter)) {
                    return Optional.of(letter);
                }
            }
        }
        return Optional.empty();
    }

    private static String aggregateIdOf(DeadLetter<? extends EventMessage<?>> letter) {
        return letter.message() instanceof DomainEventMessage<?> event ? event.getAggregateIdentifier() : null;
    }

    private static Letter letterOf(DeadLetter<? extends EventMessage<?>> letter) {
        EventMessage<?> message = letter.message();
        DomainEventMessage<?> event = message instanceof DomainEventMessage<?> domain ? domain : null;
        return new Letter(message.getIdentifier(), event == null ? null : event.getType(),
                          event == null ? null : event.getAggregateIdentifier(),
                          event == null ? -1 : event.getSequenceNumber(), message.getPayloadType().getName(),
                          letter.cause().map(cause -> cause.type() + ": " + cause.message()).orElse(null),
                          letter.enqueuedAt(), letter.lastTouched());
    }
}
