package io.github.pulsaroutbox.receiving;

import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.AxonConfigurationException;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.mock;

class SourceBuilderTest {

    private final PulsarClient client = mock(PulsarClient.class);

    @Test
    void bothSourcesNeedAClientATopicAndAConverter() {
        assertThatThrownBy(() -> PulsarStreamableMessageSource.builder().pulsarClient(client)
                                                              .converter(Deposits.converter()).build())
                .isInstanceOf(AxonConfigurationException.class).hasMessageContaining("topic");
        assertThatThrownBy(() -> PulsarStreamableMessageSource.builder().pulsarClient(client).topic("t").build())
                .isInstanceOf(AxonConfigurationException.class).hasMessageContaining("OutboxMessageConverter");
        assertThatThrownBy(() -> PulsarSubscribableMessageSource.builder().topic("t")
                                                                .converter(Deposits.converter())
                                                                .subscription("s").build())
                .isInstanceOf(AxonConfigurationException.class).hasMessageContaining("PulsarClient");
        assertThatThrownBy(() -> PulsarStreamableMessageSource.builder().topic(" "))
                .isInstanceOf(AxonConfigurationException.class);
        assertThatCode(() -> PulsarStreamableMessageSource.builder().pulsarClient(client).topic("t")
                                                          .converter(Deposits.converter()).build())
                .doesNotThrowAnyException();
    }

    @Test
    void aSubscribableSourceNeedsASubscriptionAndASensibleBackoff() {
        assertThatThrownBy(() -> PulsarSubscribableMessageSource.builder().pulsarClient(client).topic("t")
                                                                .converter(Deposits.converter()).build())
                .isInstanceOf(AxonConfigurationException.class).hasMessageContaining("subscription");
        assertThatThrownBy(() -> PulsarSubscribableMessageSource.builder()
                                                                .backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(AxonConfigurationException.class);
        assertThatCode(() -> PulsarSubscribableMessageSource.builder().pulsarClient(client).topic("t")
                                                            .converter(Deposits.converter()).subscription("s")
                                                            .build())
                .doesNotThrowAnyException();
    }
}
