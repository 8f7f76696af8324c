package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.OutboxStartupException;
import io.github.pulsaroutbox.testapp.OutboxTestApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Setup mistakes that only show when Axon starts fail the start once, in Spring Boot's "APPLICATION FAILED TO START"
 * report, with what is wrong and the action that fixes it: a missing outbox table (the PostgreSQL case: the schema is
 * created only on embedded databases by default), an annotated aggregate without a topic.
 */
@ExtendWith(OutputCaptureExtension.class)
class OutboxFailureAnalyzerIntegrationTest {

    @Test
    void missingOutboxTableFailsTheStartNamingBothFixes(CapturedOutput output) {
        Throwable failure = catchThrowable(() -> start("pulsar-outbox.initialize-schema=never",
                                                       "pulsar-outbox.topics.ShopOrder=orders").close());

        FailureAnalysis analysis = new OutboxFailureAnalyzer().analyze(failure);
        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription()).contains("the outbox table 'axon_outbox'").contains("is missing");
        assertThat(analysis.getAction()).contains("pulsar-outbox.initialize-schema=always")
                                        .contains("io/github/pulsaroutbox/store/jdbc/h2/migration/V1__");
        // registered: Spring Boot's report shows it instead of a stack trace per command
        assertThat(output).contains("APPLICATION FAILED TO START").contains("pulsar-outbox.initialize-schema=always");
    }

    @Test
    void annotatedAggregateWithoutTopicIsReportedWithTheProperty(CapturedOutput output) {
        Throwable failure = catchThrowable(() -> start().close());

        assertThat(failure).hasRootCauseInstanceOf(OutboxStartupException.class);
        FailureAnalysis analysis = new OutboxFailureAnalyzer().analyze(failure);
        assertThat(analysis.getDescription()).contains("'ShopOrder'");
        assertThat(analysis.getAction()).contains("pulsar-outbox.topics.ShopOrder");
        assertThat(output).contains("APPLICATION FAILED TO START").contains("pulsar-outbox.topics.ShopOrder");
    }

    private static org.springframework.context.ConfigurableApplicationContext start(String... properties) {
        return new SpringApplicationBuilder(OutboxTestApplication.class)
                .web(WebApplicationType.NONE)
                .properties("spring.datasource.generate-unique-name=true", "pulsar-outbox.relay.enabled=false")
                .properties(properties)
                .run();
    }
}
