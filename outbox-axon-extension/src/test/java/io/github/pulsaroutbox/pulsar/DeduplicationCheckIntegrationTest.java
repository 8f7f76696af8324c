package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.BrokerAdmin;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.axonframework.common.AxonConfigurationException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The startup check of broker deduplication, against the real broker (deduplication on at broker level). */
class DeduplicationCheckIntegrationTest {

    private final String admin = SharedPulsarBroker.adminUrl();

    @Test
    void passesForTopicsWhoseDeduplicationIsOn() {
        String topic = "persistent://public/default/dedup-on-" + UUID.randomUUID();
        BrokerAdmin.send("PUT", "/admin/v2/persistent/public/default/" + topic.substring(topic.lastIndexOf('/') + 1),
                         "");
        assertThatCode(() -> new DeduplicationCheck(admin, DeduplicationCheck.Mode.REQUIRE).accept(List.of(topic)))
                .doesNotThrowAnyException();
    }

    @Test
    void failsTheStartNamingATopicWhoseNamespaceTurnedDeduplicationOff() {
        String namespace = "nodedup-" + UUID.randomUUID().toString().substring(0, 8);
        BrokerAdmin.send("PUT", "/admin/v2/namespaces/public/" + namespace, "{}");
        BrokerAdmin.send("POST", "/admin/v2/namespaces/public/" + namespace + "/deduplication", "false");
        String topic = "persistent://public/" + namespace + "/orders";
        BrokerAdmin.send("PUT", "/admin/v2/persistent/public/" + namespace + "/orders", "");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThatThrownBy(
                () -> new DeduplicationCheck(admin, DeduplicationCheck.Mode.REQUIRE).accept(List.of(topic)))
                .isInstanceOf(AxonConfigurationException.class)
                .hasMessageContaining("deduplication is off for outbox topic(s) [" + topic + "]")
                .hasMessageContaining("set-deduplication --enable"));
        assertThatCode(() -> new DeduplicationCheck(admin, DeduplicationCheck.Mode.WARN).accept(List.of(topic)))
                .doesNotThrowAnyException();
    }

    @Test
    void aTopicNotCreatedYetGetsTheBrokerLevelSettingWhenItsNamespaceSetsNone() {
        // the shared broker runs with brokerDeduplicationEnabled=true; the namespace has no policy of its own
        String namespace = "brokerdedup-" + UUID.randomUUID().toString().substring(0, 8);
        BrokerAdmin.send("PUT", "/admin/v2/namespaces/public/" + namespace, "{}");
        String topic = "persistent://public/" + namespace + "/not-created-yet";
        assertThatCode(() -> new DeduplicationCheck(admin, DeduplicationCheck.Mode.REQUIRE).accept(List.of(topic)))
                .doesNotThrowAnyException();
        assertThat(BrokerAdmin.call("GET", "/admin/v2/persistent/public/" + namespace + "/not-created-yet/stats",
                                    null).statusCode())
                .as("the check creates no topic").isEqualTo(404);
    }

    @Test
    void aTopicNotCreatedYetInANamespaceWithDeduplicationOffIsReportedOff() {
        String namespace = "nsdedupoff-" + UUID.randomUUID().toString().substring(0, 8);
        BrokerAdmin.send("PUT", "/admin/v2/namespaces/public/" + namespace, "{}");
        BrokerAdmin.send("POST", "/admin/v2/namespaces/public/" + namespace + "/deduplication", "false");
        String topic = "persistent://public/" + namespace + "/not-created-yet";
        assertThatThrownBy(() -> new DeduplicationCheck(admin, DeduplicationCheck.Mode.REQUIRE)
                .accept(List.of(topic)))
                .hasMessageContaining("deduplication is off for outbox topic(s) [" + topic + "]");
    }

    @Test
    void aBrokerItCannotAskIsReportedAsUncheckedWithTheReason() {
        assertThatThrownBy(() -> new DeduplicationCheck("http://127.0.0.1:1", DeduplicationCheck.Mode.REQUIRE)
                .accept(List.of("orders")))
                .isInstanceOf(AxonConfigurationException.class)
                .hasMessageContaining("Could not check broker deduplication (admin API at http://127.0.0.1:1)")
                .hasMessageContaining("for orders (ConnectException");
    }

    @Test
    void aNamespaceThatDoesNotExistIsReportedAsUncheckedWithTheAdminApisAnswer() {
        String topic = "persistent://public/no-such-namespace-" + UUID.randomUUID().toString().substring(0, 8) + "/t";
        assertThatThrownBy(() -> new DeduplicationCheck(admin, DeduplicationCheck.Mode.REQUIRE)
                .accept(List.of(topic)))
                .hasMessageContaining("Could not check broker deduplication")
                .hasMessageContaining("answered HTTP 404");
    }
}
