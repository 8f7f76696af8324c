package io.github.pulsaroutbox.receiving.inbox;

import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import org.axonframework.messaging.InterceptorChain;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

class InboxInterceptorTest {

    /** An inbox in memory: first handling per (group, id). */
    private static final class MemoryInbox implements Inbox {
        final Set<String> recorded = new HashSet<>();

        @Override
        public boolean firstHandling(String processingGroup, String messageId, Instant at) {
            return recorded.add(processingGroup + "/" + messageId);
        }

        @Override
        public int purge(Instant before, int batchSize) {
            return 0;
        }
    }

    @Test
    void runsTheHandlersOfAnEventsFirstHandlingAndSkipsItsCopies() throws Exception {
        MemoryInbox inbox = new MemoryInbox();
        InboxInterceptor interceptor = new InboxInterceptor(inbox, "totals");
        EventMessage<?> event = GenericEventMessage.asEventMessage("payload");
        InterceptorChain chain = mock(InterceptorChain.class);
        when(chain.proceed()).thenReturn("handled");

        assertThat(interceptor.handle(DefaultUnitOfWork.startAndGet(event), chain)).isEqualTo("handled");
        CurrentUnitOfWorkCleaner.clear();
        assertThat(interceptor.handle(DefaultUnitOfWork.startAndGet(event), chain)).isNull();
        CurrentUnitOfWorkCleaner.clear();

        verify(chain, times(1)).proceed();
        assertThat(interceptor.duplicates()).isEqualTo(1);
        assertThat(inbox.recorded).containsExactly("totals/" + event.getIdentifier());
    }

    @Test
    void eachProcessingGroupHandlesTheEventOnce() throws Exception {
        MemoryInbox inbox = new MemoryInbox();
        EventMessage<?> event = GenericEventMessage.asEventMessage("payload");
        InterceptorChain chain = mock(InterceptorChain.class);

        new InboxInterceptor(inbox, "totals").handle(DefaultUnitOfWork.startAndGet(event), chain);
        CurrentUnitOfWorkCleaner.clear();
        new InboxInterceptor(inbox, "audit").handle(DefaultUnitOfWork.startAndGet(event), chain);
        CurrentUnitOfWorkCleaner.clear();

        verify(chain, times(2)).proceed();
    }

    @Test
    void runsTheHandlersOfARetriedDeadLetterThoughItsEventWasRecordedWhenParked() throws Exception {
        MemoryInbox inbox = new MemoryInbox();
        InboxInterceptor interceptor = new InboxInterceptor(inbox, "totals");
        EventMessage<?> event = GenericEventMessage.asEventMessage("payload");
        InterceptorChain chain = mock(InterceptorChain.class);
        interceptor.handle(DefaultUnitOfWork.startAndGet(event), chain); // first handling: refused, parked
        CurrentUnitOfWorkCleaner.clear();

        var retry = DefaultUnitOfWork.startAndGet(event); // as Axon's dead-letter processing runs it
        retry.resources().put(org.axonframework.messaging.deadletter.DeadLetter.class.getName(),
                              new org.axonframework.messaging.deadletter.GenericDeadLetter<>("seq", event));
        interceptor.handle(retry, chain);
        CurrentUnitOfWorkCleaner.clear();

        verify(chain, times(2)).proceed();
        assertThat(interceptor.duplicates()).isZero();
        assertThat(inbox.recorded).containsExactly("totals/" + event.getIdentifier());
    }

    @Test
    void recordsARetriedDeadLetterWhoseRecordIsMissing() throws Exception {
        MemoryInbox inbox = new MemoryInbox();
        EventMessage<?> event = GenericEventMessage.asEventMessage("payload");
        var retry = DefaultUnitOfWork.startAndGet(event);
        retry.resources().put(org.axonframework.messaging.deadletter.DeadLetter.class.getName(),
                              new org.axonframework.messaging.deadletter.GenericDeadLetter<>("seq", event));
        new InboxInterceptor(inbox, "totals").handle(retry, mock(InterceptorChain.class));
        CurrentUnitOfWorkCleaner.clear();

        assertThat(inbox.recorded).containsExactly("totals/" + event.getIdentifier());
    }

    /** Ends the units of work these tests start. */
    private static final class CurrentUnitOfWorkCleaner {
        static void clear() {
            while (org.axonframework.messaging.unitofwork.CurrentUnitOfWork.isStarted()) {
                org.axonframework.messaging.unitofwork.CurrentUnitOfWork.get().rollback();
            }
        }
    }
}
