package io.github.pulsaroutbox.receiving;

import brave.handler.MutableSpan;
import io.github.pulsaroutbox.BraveTracing;
import io.micrometer.observation.ObservationRegistry;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.messaging.InterceptorChain;
import org.axonframework.messaging.MetaData;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReceiveObservationsTest {

    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String SEND_SPAN = "00f067aa0ba902b7";

    private final BraveTracing tracing = new BraveTracing();

    @AfterEach
    void tearDown() {
        while (CurrentUnitOfWork.isStarted()) {
            CurrentUnitOfWork.get().rollback();
        }
        tracing.close();
    }

    private static EventMessage<?> event(Map<String, String> metaData) {
        return new GenericDomainEventMessage<>("Order", "o-1", 3, "placed", MetaData.from(metaData));
    }

    private Object handle(ReceiveObservations observations, EventMessage<?> event, InterceptorChain chain)
            throws Exception {
        try {
            return observations.handle(DefaultUnitOfWork.startAndGet(event), chain);
        } finally {
            CurrentUnitOfWork.get().rollback();
        }
    }

    @Nested
    class WithATracer {

        @Test
        void theHandlersRunInAConsumerSpanContinuingTheProducersTrace() throws Exception {
            AtomicReference<String> current = new AtomicReference<>();
            EventMessage<?> event = event(Map.of("traceparent", "00-" + TRACE_ID + "-" + SEND_SPAN + "-01"));

            Object result = handle(new ReceiveObservations(tracing.registry, "billing"), event, () -> {
                current.set(tracing.tracer.currentSpan().context().spanId());
                return "handled";
            });

            assertThat(result).isEqualTo("handled");
            MutableSpan receive = tracing.span(TRACE_ID, brave.Span.Kind.CONSUMER);
            assertThat(receive.parentId()).as("the producer's send span").isEqualTo(SEND_SPAN);
            assertThat(current.get()).as("current while the handlers run").isEqualTo(receive.id());
            assertThat(receive.name()).isEqualTo("billing receive");
            assertThat(receive.remoteServiceName()).isEqualTo("Apache Pulsar");
            assertThat(receive.tags()).containsEntry("messaging.system", "pulsar")
                                      .containsEntry("messaging.consumer.group.name", "billing")
                                      .containsEntry("messaging.operation", "process")
                                      .containsEntry("messaging.message.id", event.getIdentifier())
                                      .containsEntry("outbox.aggregate.id", "o-1");
        }

        @Test
        void anEventWithoutATraceStartsOne() throws Exception {
            handle(new ReceiveObservations(tracing.registry, "billing"), event(Map.of()), () -> null);

            assertThat(tracing.finished).singleElement().satisfies(span -> {
                assertThat(span.parentId()).isNull();
                assertThat(span.kind()).isEqualTo(brave.Span.Kind.CONSUMER);
            });
        }

        @Test
        void aHandlersFailureIsTheSpansErrorAndIsRethrown() {
            IllegalStateException refused = new IllegalStateException("refused");

            assertThatThrownBy(() -> handle(new ReceiveObservations(tracing.registry, "billing"),
                                            event(Map.of()), () -> {
                        throw refused;
                    })).isSameAs(refused);
            assertThat(tracing.finished).singleElement().satisfies(span -> assertThat(span.error())
                    .isSameAs(refused));
        }
    }

    @Test
    void withANoopRegistryOnlyPassesTheEventOn() throws Exception {
        assertThat(handle(new ReceiveObservations(ObservationRegistry.NOOP, "billing"), event(Map.of()),
                          () -> "handled")).isEqualTo("handled");
        assertThat(tracing.finished).isEmpty();
    }

    @Test
    void needsARegistryAndAGroup() {
        assertThatThrownBy(() -> new ReceiveObservations(null, "billing"))
                .isInstanceOf(org.axonframework.common.AxonConfigurationException.class);
        assertThatThrownBy(() -> new ReceiveObservations(tracing.registry, " "))
                .isInstanceOf(org.axonframework.common.AxonConfigurationException.class);
    }
}
