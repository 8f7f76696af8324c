package io.github.pulsaroutbox;

import brave.Tracing;
import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.ThreadLocalCurrentTraceContext;
import brave.propagation.TraceContext;
import brave.sampler.Sampler;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.brave.bridge.BraveBaggageManager;
import io.micrometer.tracing.brave.bridge.BraveCurrentTraceContext;
import io.micrometer.tracing.brave.bridge.BravePropagator;
import io.micrometer.tracing.brave.bridge.BraveTracer;
import io.micrometer.tracing.brave.bridge.W3CPropagation;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real tracer for the tracing tests: Brave with W3C propagation, every span sampled, bridged to Micrometer
 * Observation as Spring Boot does it (propagating sender and receiver handlers, then the default one), collecting the
 * finished spans.
 */
public final class BraveTracing implements AutoCloseable {

    /** The spans finished so far. */
    public final List<MutableSpan> finished = new CopyOnWriteArrayList<>();
    /** The registry whose observations become spans. */
    public final ObservationRegistry registry = ObservationRegistry.create();
    /** The Micrometer tracer (for the current span). */
    public final Tracer tracer;
    private final Tracing tracing;

    public BraveTracing() {
        tracing = Tracing.newBuilder()
                         .localServiceName("outbox-test")
                         .currentTraceContext(ThreadLocalCurrentTraceContext.create())
                         .propagationFactory(new W3CPropagation())
                         .traceId128Bit(true)
                         .sampler(Sampler.ALWAYS_SAMPLE)
                         .addSpanHandler(new SpanHandler() {
                             @Override
                             public boolean end(TraceContext context, MutableSpan span, Cause cause) {
                                 finished.add(span);
                                 return true;
                             }
                         })
                         .build();
        BraveTracer braveTracer = new BraveTracer(tracing.tracer(),
                                                  new BraveCurrentTraceContext(tracing.currentTraceContext()),
                                                  new BraveBaggageManager());
        BravePropagator propagator = new BravePropagator(tracing);
        registry.observationConfig().observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
                new PropagatingSenderTracingObservationHandler<>(braveTracer, propagator),
                new PropagatingReceiverTracingObservationHandler<>(braveTracer, propagator),
                new DefaultTracingObservationHandler(braveTracer)));
        tracer = braveTracer;
    }

    /** The first finished span of {@code kind} in trace {@code traceId}. */
    public MutableSpan span(String traceId, brave.Span.Kind kind) {
        return finished.stream().filter(span -> span.traceId().equals(traceId) && span.kind() == kind)
                       .findFirst().orElseThrow(() -> new AssertionError(
                        "no " + kind + " span in trace " + traceId + " among " + finished));
    }

    @Override
    public void close() {
        tracing.close();
    }
}
