package io.github.pulsaroutbox.upcasting.legacy;

import io.github.pulsaroutbox.upcasting.current.CustomerRegistered;
import org.axonframework.serialization.SerializedType;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.SimpleSerializedType;
import org.axonframework.serialization.json.JacksonSerializer;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * The customer service as it was deployed before: it wrote CustomerRegistered at version 1. (Both versions cannot
 * share a class name in one JVM, so the old class is {@link CustomerRegisteredV1}, serialized under the event's real
 * type name and revision 1 — exactly what the old code stored.)
 */
@SpringBootApplication
public class LegacyCustomerApp {

    @Bean
    @Qualifier("eventSerializer")
    Serializer eventSerializer() {
        return new LegacySerializer();
    }

    static final class LegacySerializer extends JacksonSerializer {
        LegacySerializer() {
            super(JacksonSerializer.builder());
        }

        @Override
        public SerializedType typeForClass(Class type) {
            if (CustomerRegisteredV1.class.equals(type)) {
                return new SimpleSerializedType(CustomerRegistered.class.getName(), "1");
            }
            return super.typeForClass(type);
        }

        @Override
        public Class classForType(SerializedType type) {
            if (CustomerRegistered.class.getName().equals(type.getName()) && "1".equals(type.getRevision())) {
                return CustomerRegisteredV1.class;
            }
            return super.classForType(type);
        }
    }
}
