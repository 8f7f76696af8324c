package io.github.pulsaroutbox.receiving.inbox;

import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.InterceptorChain;
import org.axonframework.messaging.MessageHandlerInterceptor;
import org.axonframework.messaging.deadletter.DeadLetter;
import org.axonframework.messaging.unitofwork.UnitOfWork;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;

import static org.axonframework.common.BuilderUtils.assertNonNull;
import static org.axonframework.common.BuilderUtils.assertThat;

/**
 * Applies each event once per processing group: register it on the group's event processor (with a transaction
 * manager, so that the unit of work is one database transaction). Before the handlers run it records the event's
 * identifier (the outbox's {@code ce_id}) in the {@link Inbox}, in the same transaction; an event recorded before is
 * skipped (its handlers do not run, the unit of work commits nothing for it).
 * <p>
 * Guarantees: with the inbox in the database of the handlers' effects, an event's effects commit at most once
 * whatever the source redelivers or a broker duplicates; with an at-least-once source, exactly once. A handler failure
 * rolls the record back with the effects, so the redelivered event is handled again.
 * <p>
 * With a dead-letter queue for the group, an event the handlers refuse is parked and its record commits with the
 * parking (copies of it arriving later are skipped: the queue holds it). When the queue's letter is processed again
 * (Axon's {@code SequencedDeadLetterProcessor}, a unit of work holding the {@link DeadLetter}), the handlers run
 * whatever the inbox holds, and the record is made if it is missing: a parked event is applied when retried, once.
 */
public final class InboxInterceptor implements MessageHandlerInterceptor<EventMessage<?>> {

    private final Inbox inbox;
    private final String processingGroup;
    private final Clock clock;
    private final AtomicLong duplicates = new AtomicLong();

    /** An interceptor recording in {@code inbox} the events {@code processingGroup} handles. */
    public InboxInterceptor(Inbox inbox, String processingGroup) {
        this(inbox, processingGroup, Clock.systemUTC());
    }

    InboxInterceptor(Inbox inbox, String processingGroup, Clock clock) {
        assertNonNull(inbox, "inbox may not be null");
        assertThat(processingGroup, g -> g != null && !g.isBlank(), "processingGroup may not be blank");
        this.inbox = inbox;
        this.processingGroup = processingGroup;
        this.clock = clock;
    }

    @Override
    public Object handle(UnitOfWork<? extends EventMessage<?>> unitOfWork, InterceptorChain interceptorChain)
            throws Exception {
        EventMessage<?> event = unitOfWork.getMessage();
        if (unitOfWork.getResource(DeadLetter.class.getName()) != null) {
            // a parked event retried: recorded when it was parked (or now), its handlers have not applied it
            inbox.firstHandling(processingGroup, event.getIdentifier(), clock.instant());
            return interceptorChain.proceed();
        }
        if (!inbox.firstHandling(processingGroup, event.getIdentifier(), clock.instant())) {
            duplicates.incrementAndGet();
            return null;
        }
        return interceptorChain.proceed();
    }

    /** Events skipped because the group had handled them before. */
    public long duplicates() {
        return duplicates.get();
    }
}
