// Implementation of trt_runner.hpp.
#include "trt_runner.hpp"

#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>

namespace trtlab::trt
{

Logger::Logger(Severity minimum) noexcept
    : mMinimum(minimum)
{
}

void Logger::log(Severity severity, char const* message) noexcept
{
    if (severity <= Severity::kERROR)
    {
        mLastError = message;
    }
    if (severity <= mMinimum)
    {
        std::cerr << "[TensorRT] " << message << "\n";
    }
}

std::string const& Logger::lastError() const noexcept
{
    return mLastError;
}

void checkCuda(cudaError_t status, char const* what)
{
    if (status != cudaSuccess)
    {
        throw RuntimeError(std::string(what) + " failed: " + cudaGetErrorString(status)
            + " (check nvidia-smi, and that the driver supports this CUDA runtime)");
    }
}

DeviceBuffer::DeviceBuffer(std::size_t bytes)
    : mBytes(bytes)
{
    checkCuda(cudaMalloc(&mPtr, bytes == 0 ? 1 : bytes), "cudaMalloc");
}

DeviceBuffer::~DeviceBuffer()
{
    if (mPtr != nullptr)
    {
        static_cast<void>(cudaFree(mPtr));
    }
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : mPtr(std::exchange(other.mPtr, nullptr))
    , mBytes(std::exchange(other.mBytes, 0))
{
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept
{
    if (this != &other)
    {
        if (mPtr != nullptr)
        {
            static_cast<void>(cudaFree(mPtr));
        }
        mPtr = std::exchange(other.mPtr, nullptr);
        mBytes = std::exchange(other.mBytes, 0);
    }
    return *this;
}

CudaStream::CudaStream()
{
    checkCuda(cudaStreamCreateWithFlags(&mStream, cudaStreamNonBlocking), "cudaStreamCreate");
}

CudaStream::~CudaStream()
{
    if (mStream != nullptr)
    {
        static_cast<void>(cudaStreamDestroy(mStream));
    }
}

void CudaStream::synchronize() const
{
    checkCuda(cudaStreamSynchronize(mStream), "cudaStreamSynchronize");
}

std::size_t elementSize(nvinfer1::DataType type)
{
    switch (type)
    {
    case nvinfer1::DataType::kFLOAT:
    case nvinfer1::DataType::kINT32: return 4;
    case nvinfer1::DataType::kHALF:
    case nvinfer1::DataType::kBF16: return 2;
    case nvinfer1::DataType::kINT64: return 8;
    case nvinfer1::DataType::kINT8:
    case nvinfer1::DataType::kUINT8:
    case nvinfer1::DataType::kBOOL:
    case nvinfer1::DataType::kFP8: return 1;
    default: break;
    }
    throw RuntimeError(std::string("tensor type ") + dataTypeName(type)
        + " is packed (sub-byte); expected a byte-sized IO type: cast at the network's edges");
}

char const* dataTypeName(nvinfer1::DataType type)
{
    switch (type)
    {
    case nvinfer1::DataType::kFLOAT: return "FLOAT";
    case nvinfer1::DataType::kHALF: return "HALF";
    case nvinfer1::DataType::kBF16: return "BF16";
    case nvinfer1::DataType::kINT8: return "INT8";
    case nvinfer1::DataType::kINT32: return "INT32";
    case nvinfer1::DataType::kINT64: return "INT64";
    case nvinfer1::DataType::kBOOL: return "BOOL";
    case nvinfer1::DataType::kUINT8: return "UINT8";
    case nvinfer1::DataType::kFP8: return "FP8";
    default: return "packed/other";
    }
}

std::int64_t volume(nvinfer1::Dims const& dims)
{
    std::int64_t v = 1;
    for (std::int32_t i = 0; i < dims.nbDims; ++i)
    {
        if (dims.d[i] < 0)
        {
            throw RuntimeError("shape " + dimsString(dims) + " still has a dynamic dim: "
                + "call setInputShape for every input first");
        }
        v *= dims.d[i];
    }
    return v;
}

std::string dimsString(nvinfer1::Dims const& dims)
{
    std::ostringstream s;
    s << "[";
    for (std::int32_t i = 0; i < dims.nbDims; ++i)
    {
        s << (i ? ", " : "") << dims.d[i];
    }
    s << "]";
    return s.str();
}

nvinfer1::Dims makeDims(std::vector<std::int64_t> const& values)
{
    nvinfer1::Dims dims{};
    if (values.size() > static_cast<std::size_t>(nvinfer1::Dims::MAX_DIMS))
    {
        throw RuntimeError("too many dims: " + std::to_string(values.size()));
    }
    dims.nbDims = static_cast<std::int32_t>(values.size());
    for (std::size_t i = 0; i < values.size(); ++i)
    {
        dims.d[i] = values[i];
    }
    return dims;
}

namespace
{

std::vector<char> readFile(std::string const& path)
{
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in)
    {
        throw RuntimeError("engine file not found: " + path
            + " (build it first: `trtlab build model.onnx` or trtexec --onnx=... --saveEngine=...)");
    }
    auto const size = static_cast<std::size_t>(in.tellg());
    if (size == 0)
    {
        throw RuntimeError("engine file " + path + " is empty: the build failed, rebuild it");
    }
    std::vector<char> data(size);
    in.seekg(0);
    in.read(data.data(), static_cast<std::streamsize>(size));
    return data;
}

} // namespace

EngineRunner::EngineRunner(std::string const& enginePath, Logger& logger)
    : mLogger(logger)
{
    std::vector<char> const plan = readFile(enginePath);
    mRuntime.reset(nvinfer1::createInferRuntime(mLogger));
    if (!mRuntime)
    {
        throw RuntimeError("createInferRuntime failed: " + mLogger.lastError());
    }
    mEngine.reset(mRuntime->deserializeCudaEngine(plan.data(), plan.size()));
    if (!mEngine)
    {
        throw RuntimeError("deserializeCudaEngine(" + enginePath + ") returned null: "
            + mLogger.lastError()
            + ". An engine loads only with the TensorRT version and GPU it was built for "
              "(the lean runtime: only version-compatible engines); rebuild it here.");
    }
    mContext.reset(mEngine->createExecutionContext());
    if (!mContext)
    {
        throw RuntimeError("createExecutionContext failed (out of GPU memory?): "
            + mLogger.lastError());
    }
    for (std::int32_t i = 0; i < mEngine->getNbIOTensors(); ++i)
    {
        char const* name = mEngine->getIOTensorName(i);
        TensorInfo info;
        info.name = name;
        info.isInput = mEngine->getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT;
        info.type = mEngine->getTensorDataType(name);
        info.shape = mEngine->getTensorShape(name);
        mTensors.push_back(info);
    }
    mStream = std::make_unique<CudaStream>();
}

EngineRunner::~EngineRunner() = default;

TensorInfo const& EngineRunner::tensor(std::string const& name) const
{
    for (auto const& t : mTensors)
    {
        if (t.name == name)
        {
            return t;
        }
    }
    std::string known;
    for (auto const& t : mTensors)
    {
        known += (known.empty() ? "" : ", ") + t.name;
    }
    throw RuntimeError("the engine has no tensor '" + name + "'; it has: " + known);
}

TensorInfo const& EngineRunner::singleInput() const
{
    TensorInfo const* found = nullptr;
    for (auto const& t : mTensors)
    {
        if (t.isInput)
        {
            if (found != nullptr)
            {
                throw RuntimeError("the engine has several inputs; name the one to feed");
            }
            found = &t;
        }
    }
    if (found == nullptr)
    {
        throw RuntimeError("the engine has no inputs");
    }
    return *found;
}

void EngineRunner::setInputShape(std::string const& name, nvinfer1::Dims const& shape)
{
    TensorInfo const& info = tensor(name);
    if (!info.isInput)
    {
        throw RuntimeError("'" + name + "' is an output; setInputShape takes inputs");
    }
    if (shape.nbDims != info.shape.nbDims)
    {
        throw RuntimeError("input '" + name + "' expects rank " + std::to_string(info.shape.nbDims)
            + " " + dimsString(info.shape) + ", got " + dimsString(shape));
    }
    nvinfer1::Dims const lo = mEngine->getProfileShape(name.c_str(), 0, nvinfer1::OptProfileSelector::kMIN);
    nvinfer1::Dims const hi = mEngine->getProfileShape(name.c_str(), 0, nvinfer1::OptProfileSelector::kMAX);
    for (std::int32_t i = 0; i < shape.nbDims; ++i)
    {
        if (shape.d[i] < lo.d[i] || shape.d[i] > hi.d[i])
        {
            throw RuntimeError("input '" + name + "' shape " + dimsString(shape)
                + " is outside optimization profile 0 (min " + dimsString(lo) + ", max "
                + dimsString(hi) + "): resize the input or rebuild with a wider profile");
        }
    }
    if (!mContext->setInputShape(name.c_str(), shape))
    {
        throw RuntimeError("setInputShape(" + name + ", " + dimsString(shape) + ") failed: "
            + mLogger.lastError());
    }
}

DeviceBuffer& EngineRunner::deviceBuffer(std::string const& name, std::size_t bytes)
{
    for (auto& entry : mBuffers)
    {
        if (entry.first == name)
        {
            if (entry.second.bytes() < bytes)
            {
                entry.second = DeviceBuffer(bytes);  // grow; reused while large enough
            }
            return entry.second;
        }
    }
    mBuffers.emplace_back(name, DeviceBuffer(bytes));
    return mBuffers.back().second;
}

std::vector<HostTensor> EngineRunner::infer(std::vector<HostTensor> const& inputs)
{
    for (auto const& in : inputs)
    {
        TensorInfo const& info = tensor(in.name);
        if (in.type != info.type)
        {
            throw RuntimeError("input '" + in.name + "' expects " + dataTypeName(info.type)
                + ", got " + dataTypeName(in.type));
        }
        setInputShape(in.name, in.shape);
        auto const bytes = static_cast<std::size_t>(volume(in.shape)) * elementSize(in.type);
        if (in.data.size() != bytes)
        {
            throw RuntimeError("input '" + in.name + "' holds " + std::to_string(in.data.size())
                + " bytes; shape " + dimsString(in.shape) + " needs " + std::to_string(bytes));
        }
        DeviceBuffer& buf = deviceBuffer(in.name, bytes);
        checkCuda(cudaMemcpyAsync(buf.get(), in.data.data(), bytes, cudaMemcpyHostToDevice, mStream->get()),
            "cudaMemcpyAsync (input)");
        if (!mContext->setTensorAddress(in.name.c_str(), buf.get()))
        {
            throw RuntimeError("setTensorAddress(" + in.name + ") failed: " + mLogger.lastError());
        }
    }
    if (!mContext->allInputDimensionsSpecified())
    {
        throw RuntimeError("not every input shape is set: feed every input of the engine");
    }
    std::vector<HostTensor> outputs;
    for (auto const& info : mTensors)
    {
        if (info.isInput)
        {
            continue;
        }
        HostTensor out;
        out.name = info.name;
        out.type = info.type;
        out.shape = mContext->getTensorShape(info.name.c_str());
        auto const bytes = static_cast<std::size_t>(volume(out.shape)) * elementSize(out.type);
        out.data.resize(bytes);
        DeviceBuffer& buf = deviceBuffer(info.name, bytes);
        if (!mContext->setTensorAddress(info.name.c_str(), buf.get()))
        {
            throw RuntimeError("setTensorAddress(" + info.name + ") failed: " + mLogger.lastError());
        }
        outputs.push_back(std::move(out));
    }
    if (!mContext->enqueueV3(mStream->get()))
    {
        throw RuntimeError("enqueueV3 failed: " + mLogger.lastError());
    }
    for (auto& out : outputs)
    {
        checkCuda(cudaMemcpyAsync(out.data.data(), deviceBuffer(out.name, out.data.size()).get(),
                      out.data.size(), cudaMemcpyDeviceToHost, mStream->get()),
            "cudaMemcpyAsync (output)");
    }
    mStream->synchronize();
    return outputs;
}

} // namespace trtlab::trt
