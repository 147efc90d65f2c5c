// trtlab_segment: FCN-ResNet-101 (or any segmenter engine) on a PPM image -> class map PGM.
//
//   trtlab_segment ENGINE INPUT.ppm CLASSMAP.pgm [OVERLAY.ppm]
//
// The idea of NVIDIA's quickstart tutorial-runtime.cpp, on the TensorRT 10/11 API: the engine's
// single input takes [1, 3, H, W] float32 normalised like torchvision (ImageNet mean/std); the
// output is either a class map [1, H, W] (int64/int32, trtlab's argmax head) or scores
// [1, C, H, W] (float, argmax taken here). The class map is written as an 8-bit PGM so Python
// can compare it with its own runtime's map pixel by pixel (notebook 10).
#include "trt_runner.hpp"
#include "trtlab/imgutil.hpp"

#include <cstring>
#include <iostream>

namespace
{

std::vector<std::int32_t> classMap(trtlab::trt::HostTensor const& out, int height, int width, int& classes)
{
    using nvinfer1::DataType;
    auto const& s = out.shape;
    std::size_t const pixels = static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
    if (s.nbDims == 3 && s.d[1] == height && s.d[2] == width)
    {
        classes = 256;
        if (out.type == DataType::kINT64)
        {
            std::vector<std::int64_t> ids(pixels);
            std::memcpy(ids.data(), out.data.data(), pixels * sizeof(std::int64_t));
            return trtlab::img::narrowClassIds(ids.data(), pixels, classes);
        }
        if (out.type == DataType::kINT32)
        {
            std::vector<std::int32_t> ids(pixels);
            std::memcpy(ids.data(), out.data.data(), pixels * sizeof(std::int32_t));
            return ids;
        }
    }
    if (s.nbDims == 4 && s.d[2] == height && s.d[3] == width && out.type == DataType::kFLOAT)
    {
        classes = static_cast<int>(s.d[1]);
        std::vector<float> scores(pixels * static_cast<std::size_t>(classes));
        std::memcpy(scores.data(), out.data.data(), scores.size() * sizeof(float));
        return trtlab::img::argmaxChw(scores.data(), classes, height, width);
    }
    throw trtlab::trt::RuntimeError("output '" + out.name + "' " + trtlab::trt::dimsString(s) + " "
        + trtlab::trt::dataTypeName(out.type)
        + ": expected a class map [1, H, W] (int64/int32) or scores [1, C, H, W] (float)");
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 4 || argc > 5)
    {
        std::cerr << "usage: " << argv[0] << " ENGINE INPUT.ppm CLASSMAP.pgm [OVERLAY.ppm]\n";
        return 2;
    }
    try
    {
        trtlab::trt::Logger logger;
        trtlab::trt::EngineRunner runner(argv[1], logger);
        auto const& input = runner.singleInput();
        trtlab::img::Image const image = trtlab::img::readPnm(argv[2]);
        auto const chw = trtlab::img::toChwNormalized(image, trtlab::img::kImagenetMean, trtlab::img::kImagenetStd);

        trtlab::trt::HostTensor in;
        in.name = input.name;
        in.type = nvinfer1::DataType::kFLOAT;
        in.shape = trtlab::trt::makeDims({1, 3, image.height, image.width});
        in.data.resize(chw.size() * sizeof(float));
        std::memcpy(in.data.data(), chw.data(), in.data.size());

        auto const outputs = runner.infer({in});
        int classes = 0;
        auto const ids = classMap(outputs.front(), image.height, image.width, classes);
        trtlab::img::writePnm(argv[3], trtlab::img::classMapImage(ids, image.width, image.height));
        if (argc == 5)
        {
            auto const colored = trtlab::img::colorize(ids, image.width, image.height);
            trtlab::img::writePnm(argv[4], trtlab::img::blend(image, colored, 0.5F));
        }
        std::cout << "backend=tensorrt-cpp engine=" << argv[1] << " input " << input.name << " "
                  << trtlab::trt::dimsString(in.shape) << " -> " << outputs.front().name << " "
                  << trtlab::trt::dimsString(outputs.front().shape) << "; class map " << argv[3]
                  << "\n";
        return 0;
    }
    catch (std::exception const& e)
    {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
