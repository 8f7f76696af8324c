package io.github.pulsaroutbox.pulsar;

import org.axonframework.common.AxonConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PulsarTopicsTest {

    @Test
    void normalizesShortAndPartialNames() {
        assertThat(PulsarTopics.normalize("orders")).isEqualTo("persistent://public/default/orders");
        assertThat(PulsarTopics.normalize("shop/sales/orders")).isEqualTo("persistent://shop/sales/orders");
        assertThat(PulsarTopics.normalize("non-persistent://shop/sales/orders.v1"))
                .isEqualTo("non-persistent://shop/sales/orders.v1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "shop/orders", "a/b/c/d", "kafka://a/b/c", "orders topic", "a//c",
            "persistent://a/b/", "or*ders"})
    void rejectsMalformedNames(String topic) {
        assertThatThrownBy(() -> PulsarTopics.normalize(topic)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void resolverPrefersMappingThenAnnotationThenPattern() {
        PulsarTopicResolver resolver = PulsarTopicResolver.builder()
                                                          .map("Order", "orders")
                                                          .defaultTopicPattern("shop/events/{aggregateType}")
                                                          .build();
        assertThat(resolver.resolve("Order", Optional.of("annotated")))
                .contains("persistent://public/default/orders");
        assertThat(resolver.resolve("Invoice", Optional.of("annotated")))
                .contains("persistent://public/default/annotated");
        assertThat(resolver.resolve("Invoice", Optional.empty())).contains("persistent://shop/events/Invoice");
        assertThat(PulsarTopicResolver.builder().build().resolve("Invoice", Optional.empty())).isEmpty();
    }

    @Test
    void resolverRejectsMalformedConfiguration() {
        assertThatThrownBy(() -> PulsarTopicResolver.builder().map("Order", "not a topic"))
                .isInstanceOf(AxonConfigurationException.class).hasMessageContaining("Order");
        assertThatThrownBy(() -> PulsarTopicResolver.builder().defaultTopicPattern("a/b/c/{aggregateType}"))
                .isInstanceOf(AxonConfigurationException.class).hasMessageContaining("Default topic pattern");
        PulsarTopicResolver resolver = PulsarTopicResolver.builder().build();
        assertThatThrownBy(() -> resolver.resolve("Order", Optional.of("bad topic")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("@Outbox(topic)");
    }
}
