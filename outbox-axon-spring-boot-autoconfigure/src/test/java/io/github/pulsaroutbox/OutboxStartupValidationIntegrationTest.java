package io.github.pulsaroutbox;

import io.github.pulsaroutbox.testapp.OutboxTestApplication;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Configuration mistakes that only show once Axon knows its aggregates fail the start, naming what to fix. */
class OutboxStartupValidationIntegrationTest {

    @Test
    void annotatedAggregateWithoutTopicFailsTheStart() {
        assertThatThrownBy(() -> start("pulsar-outbox.relay.enabled=false").close())
                .rootCause()
                .hasMessageContaining("'ShopOrder'")
                .hasMessageContaining("pulsar-outbox.topics.ShopOrder");
    }

    @Test
    void defaultTopicPatternCoversUnmappedAggregates() {
        try (ConfigurableApplicationContext context = start("pulsar-outbox.relay.enabled=false",
                                                            "pulsar-outbox.default-topic=shop/events/{aggregateType}")) {
            assertThat(context.getBean(OutboxConfigurerModule.class).capturedAggregates().types())
                    .containsExactly("ShopOrder");
        }
    }

    private static ConfigurableApplicationContext start(String... properties) {
        return new SpringApplicationBuilder(OutboxTestApplication.class)
                .web(WebApplicationType.NONE)
                .properties("spring.datasource.generate-unique-name=true")
                .properties(properties)
                .run();
    }
}
