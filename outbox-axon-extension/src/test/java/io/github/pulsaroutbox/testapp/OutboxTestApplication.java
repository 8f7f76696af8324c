package io.github.pulsaroutbox.testapp;

import org.axonframework.messaging.correlation.CorrelationDataProvider;
import org.axonframework.messaging.correlation.SimpleCorrelationDataProvider;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/** A minimal Axon application (JPA event store on H2) used by the integration tests. */
@SpringBootApplication
public class OutboxTestApplication {

    /** Carries a command's W3C trace context to the events it causes, as Axon's tracing integrations do. */
    @Bean
    CorrelationDataProvider traceParentCorrelation() {
        return new SimpleCorrelationDataProvider("traceparent");
    }

    /**
     * Axon's default correlation and causation metadata ({@code correlationId}, {@code traceId}): Axon's Boot starter
     * registers it only when the application defines no provider of its own, as this one does above.
     */
    @Bean
    CorrelationDataProvider messageOrigin() {
        return new org.axonframework.messaging.correlation.MessageOriginProvider();
    }
}
