package io.github.pulsaroutbox.capture;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import org.axonframework.eventhandling.EventMessage;

import java.util.Objects;

/**
 * The {@code traceparent} of the current Micrometer Tracing span (a Micrometer Observation with a tracing bridge),
 * as {@code 00-<trace id>-<span id>-<flags>}. 64-bit trace ids are left-padded to the 128 bits W3C requires.
 */
public final class MicrometerTraceParentProvider implements TraceParentProvider {

    private final Tracer tracer;

    public MicrometerTraceParentProvider(Tracer tracer) {
        this.tracer = Objects.requireNonNull(tracer, "tracer");
    }

    @Override
    public String traceParent(EventMessage<?> event) {
        Span span = tracer.currentSpan();
        if (span == null) {
            return null;
        }
        TraceContext context = span.context();
        if (context == null || context.traceId() == null || context.spanId() == null) {
            return null;
        }
        String flags = Boolean.TRUE.equals(context.sampled()) ? "01" : "00";
        return "00-" + leftPad(context.traceId(), 32) + "-" + leftPad(context.spanId(), 16) + "-" + flags;
    }

    private static String leftPad(String hex, int length) {
        return hex.length() >= length ? hex : "0".repeat(length - hex.length()) + hex;
    }
}
