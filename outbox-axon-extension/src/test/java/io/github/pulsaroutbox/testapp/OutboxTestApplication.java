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
}
