package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.BrokerAdmin;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.junit.jupiter.api.Test;
import org.springframework.pulsar.core.PulsarAdministration;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Deduplication settings read with Spring's PulsarAdministration, against the real broker. */
class PulsarAdminDeduplicationSettingsIntegrationTest {

    private final PulsarAdminDeduplicationSettings settings = new PulsarAdminDeduplicationSettings(
            new PulsarAdministration(SharedPulsarBroker.adminUrl()), SharedPulsarBroker.adminUrl());

    @Test
    void anExistingTopicGetsItsAppliedSetting() throws Exception {
        String namespace = namespace();
        BrokerAdmin.send("POST", "/admin/v2/namespaces/public/" + namespace + "/deduplication", "false");
        BrokerAdmin.send("PUT", "/admin/v2/persistent/public/" + namespace + "/orders", "");
        assertThat(settings.applied("persistent://public/" + namespace + "/orders")).contains(false);
    }

    @Test
    void aTopicNotCreatedYetGetsItsNamespacesPolicyElseTheBrokersSetting() throws Exception {
        String withPolicy = namespace();
        BrokerAdmin.send("POST", "/admin/v2/namespaces/public/" + withPolicy + "/deduplication", "false");
        assertThat(settings.applied("persistent://public/" + withPolicy + "/later")).contains(false);
        // the shared broker runs with brokerDeduplicationEnabled=true
        assertThat(settings.applied("persistent://public/" + namespace() + "/later")).contains(true);
    }

    @Test
    void aNamespaceThatDoesNotExistIsAnAdminError() {
        assertThatThrownBy(() -> settings.applied("persistent://public/no-such-" + UUID.randomUUID() + "/t"))
                .isInstanceOf(PulsarAdminException.class);
    }

    @Test
    void itSaysWhichAdminClientItUses() {
        assertThat(settings.describe()).contains("spring.pulsar.admin.service-url=" + SharedPulsarBroker.adminUrl());
    }

    private static String namespace() {
        String namespace = "admindedup-" + UUID.randomUUID().toString().substring(0, 8);
        BrokerAdmin.send("PUT", "/admin/v2/namespaces/public/" + namespace, "{}");
        return namespace;
    }
}
