package io.github.pulsaroutbox.capture;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventhandling.GenericEventMessage;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.messaging.MetaData;
import org.axonframework.serialization.json.JacksonSerializer;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

class OutboxCaptureInterceptorTest {

    private static final String TRACE_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    /** No properties: Jackson refuses to serialize it. */
    static class Opaque {
    }

    record Named(String name) {
    }

    /** An event the aggregate keeps to itself. */
    @io.github.pulsaroutbox.Outbox.Exclude
    record Internal(String note) {
    }

    /** Inherits the exclusion. */
    static class InternalBase {
        public String getNote() {
            return "n";
        }
    }

    @io.github.pulsaroutbox.Outbox.Exclude
    static class ExcludedBase extends InternalBase {
    }

    static class ExcludedChild extends ExcludedBase {
    }

    private final List<OutboxEntry> appended = new ArrayList<>();
    private final AtomicInteger signals = new AtomicInteger();
    private final CapturedAggregates captured = CapturedAggregates.of(
            List.of(io.github.pulsaroutbox.testapp.ShopOrder.class));

    @Test
    void unserializablePayloadIsCapturedParkedInsteadOfFailingTheUnitOfWork() {
        interceptor(TraceParentProvider.fromMetadata()).handle(List.of(
                new GenericDomainEventMessage<>("ShopOrder", "A", 0, new Opaque(), MetaData.with("tenant", "t-1")),
                new GenericDomainEventMessage<>("ShopOrder", "A", 1, new Named("ok"))));

        assertThat(appended).hasSize(2);
        OutboxEntry parked = appended.get(0);
        assertThat(parked.status()).isEqualTo(OutboxStatus.FAILED);
        assertThat(parked.failureKind()).isEqualTo(FailureKind.UNREADABLE_PAYLOAD);
        assertThat(parked.lastError()).contains("could not be serialized");
        assertThat(parked.eventType()).isEqualTo(Opaque.class.getName());
        assertThat(parked.metadata()).contains("\"tenant\"").contains("\"t-1\""); // kept for the operator
        assertThat(appended.get(1).status()).isEqualTo(OutboxStatus.PENDING);
        assertThat(appended.get(1).payload()).isEqualTo("{\"name\":\"ok\"}");
        assertThat(signals).hasValue(1);
    }

    @Test
    void withTheEventStoresOwnSerializerAnUnserializableEventFailsTheUnitOfWorkNamingTheEventAndTheCause() {
        OutboxCaptureInterceptor strict = interceptor(TraceParentProvider.fromMetadata())
                .failingOnUnserializableEvents();
        List<GenericDomainEventMessage<?>> events = List.of(
                new GenericDomainEventMessage<>("ShopOrder", "A", 0, new Named("ok")),
                new GenericDomainEventMessage<>("ShopOrder", "A", 1, new Opaque()));

        assertThatThrownBy(() -> strict.handle(events))
                .isInstanceOf(org.axonframework.serialization.SerializationException.class)
                .hasMessageContaining("The event " + Opaque.class.getName() + " of aggregate ShopOrder A (sequence 1)")
                .hasMessageContaining("cannot be serialized to JSON")
                .hasMessageContaining("InvalidDefinitionException: No serializer found for class");
        assertThat(appended).isEmpty();
        assertThat(signals).hasValue(0);
    }

    /** An event whose revision is longer than the outbox's column: the event store stores it. */
    @org.axonframework.serialization.Revision("a-revision-of-more-than-sixty-four-characters-which-the-outbox-cannot-keep")
    record LongRevision(String name) {
    }

    @Test
    void withTheEventStoresOwnSerializerARevisionTooLongForTheOutboxStillParksInsteadOfFailing() {
        interceptor(TraceParentProvider.fromMetadata()).failingOnUnserializableEvents()
                .handle(List.of(new GenericDomainEventMessage<>("ShopOrder", "A", 0, new LongRevision("x"))));

        assertThat(appended).singleElement().satisfies(row -> {
            assertThat(row.status()).isEqualTo(OutboxStatus.FAILED);
            assertThat(row.lastError()).contains("longer than 64 characters");
        });
    }

    @Test
    void unserializableMetadataParksTheRowToo() {
        interceptor(TraceParentProvider.fromMetadata()).handle(List.of(
                new GenericDomainEventMessage<>("ShopOrder", "A", 0, new Named("a"),
                                                MetaData.with("opaque", new Opaque()))));
        assertThat(appended.get(0).status()).isEqualTo(OutboxStatus.FAILED);
        assertThat(appended.get(0).failureKind()).isEqualTo(FailureKind.UNREADABLE_PAYLOAD);
        assertThat(appended.get(0).metadata()).isEqualTo("{}");
    }

    @Test
    void malformedTraceParentIsDropped() {
        interceptor(TraceParentProvider.fromMetadata()).handle(List.of(
                new GenericDomainEventMessage<>("ShopOrder", "A", 0, new Named("a"),
                                                MetaData.with("traceparent", "x".repeat(500)))));
        assertThat(appended.get(0).status()).isEqualTo(OutboxStatus.PENDING);
        assertThat(appended.get(0).traceParent()).isNull();
    }

    @Test
    void theTopicIsResolvedAndStoredAtCapture() {
        new OutboxCaptureInterceptor(() -> captured, collectingStore(),
                                     JacksonSerializer.defaultSerializer(), signals::incrementAndGet,
                                     TraceParentProvider.fromMetadata(), OutboxMetrics.NOOP,
                                     type -> java.util.Optional.of("persistent://shop/sales/" + type))
                .handle(List.of(new GenericDomainEventMessage<>("ShopOrder", "A", 0, new Named("a"))));
        assertThat(appended).singleElement().extracting(OutboxEntry::topic)
                            .isEqualTo("persistent://shop/sales/ShopOrder");
        // without a resolver the relay resolves it when it sends
        interceptor(TraceParentProvider.fromMetadata()).handle(List.of(
                new GenericDomainEventMessage<>("ShopOrder", "B", 0, new Named("b"))));
        assertThat(appended.get(1).topic()).isNull();
    }

    @Test
    void onlyDomainEventsOfCapturedAggregatesAreWritten() {
        interceptor(TraceParentProvider.fromMetadata()).handle(List.of(
                new GenericDomainEventMessage<>("Counter", "C", 0, new Named("x")),
                GenericEventMessage.asEventMessage(new Named("y"))));
        assertThat(appended).isEmpty();
        assertThat(signals).hasValue(0);
    }

    @Test
    void eventsWhosePayloadClassIsExcludedStayInsideTheService() {
        interceptor(TraceParentProvider.fromMetadata()).handle(List.of(
                new GenericDomainEventMessage<>("ShopOrder", "A", 0, new Named("a")),
                new GenericDomainEventMessage<>("ShopOrder", "A", 1, new Internal("audit")),
                new GenericDomainEventMessage<>("ShopOrder", "A", 2, new ExcludedChild()),
                new GenericDomainEventMessage<>("ShopOrder", "A", 3, new Named("b"))));
        assertThat(appended).extracting(OutboxEntry::aggregateSequence).containsExactly(0L, 3L);
        assertThat(signals).hasValue(1);
    }

    @Test
    void traceParentComesFromMetadataElseFromTheCurrentSpan() {
        Tracer tracer = mock(Tracer.class);
        Span span = mock(Span.class);
        TraceContext context = mock(TraceContext.class);
        when(tracer.currentSpan()).thenReturn(span);
        when(span.context()).thenReturn(context);
        when(context.traceId()).thenReturn("463ac35c9f6413ad");
        when(context.spanId()).thenReturn("a2fb4a1d1a96d312");
        when(context.sampled()).thenReturn(true);

        interceptor(TraceParentProvider.fromMetadata().orElse(new MicrometerTraceParentProvider(tracer))).handle(
                List.of(new GenericDomainEventMessage<>("ShopOrder", "A", 0, new Named("a"),
                                                        MetaData.with("traceparent", TRACE_PARENT)),
                        new GenericDomainEventMessage<>("ShopOrder", "A", 1, new Named("b"))));

        assertThat(appended.get(0).traceParent()).isEqualTo(TRACE_PARENT);
        assertThat(appended.get(1).traceParent())
                .isEqualTo("00-0000000000000000463ac35c9f6413ad-a2fb4a1d1a96d312-01");
    }

    private OutboxCaptureInterceptor interceptor(TraceParentProvider traceParentProvider) {
        return new OutboxCaptureInterceptor(() -> captured, collectingStore(), JacksonSerializer.defaultSerializer(),
                                            signals::incrementAndGet, traceParentProvider, OutboxMetrics.NOOP);
    }

    /** A store that collects what is appended into {@code appended}. */
    private OutboxStore collectingStore() {
        return new OutboxStore() {
            @Override
            public void append(List<OutboxEntry> entries) {
                appended.addAll(entries);
            }

            @Override
            public List<OutboxEntry> fetchPending(int limit, Instant now) {
                return List.of();
            }

            @Override
            public Set<String> markSent(Collection<String> ids, Instant sentAt) {
                return Set.of();
            }

            @Override
            public void recordFailures(Collection<Failure> failures) {
            }
        };
    }
}
